import Aggregator

@main
struct FairwayAggregator {
    static func main() async {
        await AggregatorCommand.main()
    }
}
