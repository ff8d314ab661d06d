import JoinInCLI

/// The executable is only this: parsing and commands live in JoinInCLI, where tests reach them.
@main
enum Entry {
    static func main() async {
        JoinInCommand.bootstrapLogging()
        await JoinInCommand.main()
    }
}
