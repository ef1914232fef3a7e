import FairwayCLI

@main
struct Fairway {
    static func main() async {
        await FairwayCommand.main()
    }
}
