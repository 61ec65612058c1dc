import Foundation

/// A compiled model in the app bundle together with its contract file.
public struct CatalogEntry: Equatable, Sendable {
    /// The model's name: the file name without extension, e.g. "muse" for muse.mlmodelc.
    public var name: String
    /// Bundle-relative path of the compiled model directory (NAME.mlmodelc).
    public var modelPath: String
    /// Bundle-relative path of NAME.contract.json.
    public var contractPath: String
}

/// The bundled styles, and the files that could not be paired.
public struct ModelCatalog: Equatable, Sendable {
    public static let compiledModelExtension = ".mlmodelc"
    public static let contractSuffix = ".contract.json"

    public var entries: [CatalogEntry]
    /// One readable line per model without contract or contract without model.
    public var problems: [String]

    /// Pairs every `NAME.mlmodelc` with the `NAME.contract.json` in the same folder.
    ///
    /// `paths` are bundle-relative file and folder paths (as a directory enumerator lists them); files
    /// inside a `.mlmodelc` folder are ignored. Entries are sorted by name.
    public init(paths: [String]) {
        var models: [String: String] = [:]
        var contracts: [String: String] = [:]
        for path in paths {
            let components = path.split(separator: "/").map(String.init)
            guard let fileName = components.last,
                  !components.dropLast().contains(where: { $0.hasSuffix(Self.compiledModelExtension) }) else {
                continue
            }
            let folder = components.dropLast().joined(separator: "/")
            if let stem = Self.stem(of: fileName, suffix: Self.compiledModelExtension) {
                models[Self.key(folder, stem)] = path
            } else if let stem = Self.stem(of: fileName, suffix: Self.contractSuffix) {
                contracts[Self.key(folder, stem)] = path
            }
        }

        var entries: [CatalogEntry] = []
        var problems: [String] = []
        for (key, modelPath) in models {
            let name = Self.name(fromKey: key)
            if let contractPath = contracts[key] {
                entries.append(CatalogEntry(name: name, modelPath: modelPath, contractPath: contractPath))
            } else {
                problems.append("\(modelPath) has no \(name)\(Self.contractSuffix) next to it")
            }
        }
        for (key, contractPath) in contracts where models[key] == nil {
            problems.append("\(contractPath) has no compiled model \(Self.name(fromKey: key))\(Self.compiledModelExtension)")
        }
        self.entries = entries.sorted { ($0.name, $0.modelPath) < ($1.name, $1.modelPath) }
        self.problems = problems.sorted()
    }

    private static func stem(of fileName: String, suffix: String) -> String? {
        guard fileName.hasSuffix(suffix), fileName.count > suffix.count else { return nil }
        return String(fileName.dropLast(suffix.count))
    }

    private static func key(_ folder: String, _ stem: String) -> String {
        folder.isEmpty ? stem : folder + "/" + stem
    }

    private static func name(fromKey key: String) -> String {
        key.split(separator: "/").last.map(String.init) ?? key
    }
}
