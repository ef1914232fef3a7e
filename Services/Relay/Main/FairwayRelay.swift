import FairwayRuntime
import Relay

@main
struct FairwayRelay {
    static func main() async {
        ProcessBootstrap.runTasksOnEventLoops()
        await RelayCommand.main()
    }
}
