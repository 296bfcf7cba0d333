import Foundation
import PackagePlugin

/// Embeds `python/sprig` in the target it is applied to: the `sprig-embed` tool writes
/// `EmbeddedPython.swift` holding the package's files, so that a built `sprig` (or any program
/// linking the `Sprig` library) runs from any folder, the checkout moved away.
@main
struct EmbedPython: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: any Target) throws -> [Command] {
        let source = context.package.directoryURL.appending(path: "python").appending(path: "sprig")
        let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedPython.swift")
        return [.buildCommand(displayName: "Embedding python/sprig",
                              executable: try context.tool(named: "sprig-embed").url,
                              arguments: [source.path, output.path],
                              inputFiles: try Self.files(under: source),
                              outputFiles: [output])]
    }

    /// Every file under `folder` that the tool embeds (it skips the same ones).
    static func files(under folder: URL) throws -> [URL] {
        guard let walker = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: [.isRegularFileKey]) else { return [] }
        return walker.compactMap { $0 as? URL }.filter { url in
            !url.path.contains("/__pycache__") && !url.path.hasSuffix(".pyc")
                && ((try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) ?? false)
        }
    }
}
