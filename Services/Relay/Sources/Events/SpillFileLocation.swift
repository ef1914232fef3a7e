import FairwayCore
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Where this relay keeps its spill file by default: `<dir>/<name>.events`, named after the relay id when one is set
/// and after the host otherwise — stable across restarts, so a restarted relay replays what it spilled before
/// (hostname-pid would change every start). Several relays on one host share the directory: each holds an exclusive
/// `flock` on the file it uses, and a relay that finds a name taken moves on to `<name>-2`, `<name>-3`, … — so a
/// restarted relay also picks up the file of one that died.
public enum SpillFileLocation {
    /// Claims a spill file; the lock is held until the process exits.
    public static func claim(directory: String, name: String) -> String {
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let safe = String(name.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." ? $0 : "_" }.prefix(128))
        for index in 1...64 {
            let path = "\(directory)/\(safe)\(index == 1 ? "" : "-\(index)").events"
            let descriptor = open(path + ".lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
            guard descriptor >= 0 else { return path }
            if flock(descriptor, LOCK_EX | LOCK_NB) == 0 { return path }
            close(descriptor)
        }
        return "\(directory)/\(safe)-\(getpid()).events"
    }
}
