import Foundation
import NIOCore
import NIOSSL
import Testing

@testable import Relay

/// https upstreams: the certificate is checked against the system's roots plus `FAIRWAY_UPSTREAM_CA_FILE`, and
/// against the host the deployment names.
@Suite struct UpstreamTLSTests {
    /// A throwaway CA and a server certificate it signed for `localhost` and 127.0.0.1 (openssl, EC keys).
    struct Certificates {
        let directory: URL
        var ca: String { directory.appendingPathComponent("ca.pem").path }
        var chain: String { directory.appendingPathComponent("server.pem").path }
        var key: String { directory.appendingPathComponent("server.key").path }

        init() throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("fairway-tls-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try "subjectAltName=DNS:localhost,IP:127.0.0.1\n".write(to: directory.appendingPathComponent("san.cnf"), atomically: true, encoding: .utf8)
            let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
            try Self.openssl(["req", "-x509"] + ec + ["-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=Fairway Test CA"], in: directory)
            try Self.openssl(["req"] + ec + ["-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost"], in: directory)
            try Self.openssl([
                "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.pem",
                "-days", "2", "-extfile", "san.cnf",
            ], in: directory)
        }

        func serverContext() throws -> NIOSSLContext {
            let configuration = TLSConfiguration.makeServerConfiguration(
                certificateChain: try NIOSSLCertificate.fromPEMFile(chain).map { .certificate($0) },
                privateKey: .privateKey(try NIOSSLPrivateKey(file: key, format: .pem))
            )
            return try NIOSSLContext(configuration: configuration)
        }

        func remove() { try? FileManager.default.removeItem(at: directory) }

        private static func openssl(_ arguments: [String], in directory: URL) throws {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
            process.arguments = arguments
            process.currentDirectoryURL = directory
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            process.waitUntilExit()
            guard process.terminationStatus == 0 else { throw CocoaError(.executableLoad) }
        }
    }

    func post(_ client: UpstreamHTTPClient, _ url: String) async throws -> String {
        let response = try await client.post(UpstreamRequest(url: url, headers: [], body: Array("{}".utf8)), headDeadline: .now() + .seconds(5))
        return String(buffer: try await response.body.collect(upTo: 1 << 16))
    }

    @Test func anUpstreamSignedByTheConfiguredCAIsReachedByNameAndByAddress() async throws {
        let certificates = try Certificates()
        defer { certificates.remove() }
        let server = ScriptedHTTPServer(tls: try certificates.serverContext()) { _ in .ok(#"{"tls":true}"#) }
        let port = try await server.start()
        let client = UpstreamHTTPClient(connectTimeout: .seconds(2), extraTrustRoots: [certificates.ca])
        #expect(try await post(client, "https://localhost:\(port)/v1/chat/completions") == #"{"tls":true}"#)
        #expect(try await post(client, "https://127.0.0.1:\(port)/v1/chat/completions") == #"{"tls":true}"#)
        #expect(try await post(client, "https://localhost:\(port)/again") == #"{"tls":true}"#)
        #expect(server.requests.first?.head.contains("host: localhost:\(port)") == true)
        await server.stop()
    }

    @Test func anUnknownCAOrAnotherNameIsAConnectFailureAndNothingIsSent() async throws {
        let certificates = try Certificates()
        defer { certificates.remove() }
        let server = ScriptedHTTPServer(tls: try certificates.serverContext()) { _ in .ok("{}") }
        let port = try await server.start()
        let untrusting = UpstreamHTTPClient(connectTimeout: .seconds(2))
        await #expect {
            _ = try await post(untrusting, "https://localhost:\(port)/")
        } throws: { error in
            if case UpstreamHTTPError.connectionClosed = error { true } else if case UpstreamHTTPError.connectFailed = error { true } else { false }
        }
        #expect(server.accepted == 1)
        #expect(server.requests.isEmpty)
        await server.stop()
        // Signed by a trusted CA, but for localhost and 127.0.0.1: a listener on 127.0.0.2 is not that upstream.
        let elsewhere = ScriptedHTTPServer(tls: try certificates.serverContext()) { _ in .ok("{}") }
        let elsewherePort = try await elsewhere.start(host: "127.0.0.2")
        let trusting = UpstreamHTTPClient(connectTimeout: .seconds(2), extraTrustRoots: [certificates.ca])
        await #expect(throws: (any Error).self) { _ = try await post(trusting, "https://127.0.0.2:\(elsewherePort)/") }
        #expect(elsewhere.accepted == 1)
        #expect(elsewhere.requests.isEmpty)
        await elsewhere.stop()
    }
}
