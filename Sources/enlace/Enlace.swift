import ArgumentParser
@main struct Enlace: AsyncParsableCommand {
    func run() async throws {}
}
