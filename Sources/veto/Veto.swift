import VetoCLI

@main
enum Veto {
    static func main() async {
        await VetoCommand.run()
    }
}
