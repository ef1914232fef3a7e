import Management

@main
struct FairwayManagement {
    static func main() async {
        await ManagementCommand.main()
    }
}
