import Relay

@main
struct FairwayRelay {
    static func main() async {
        await RelayCommand.main()
    }
}
