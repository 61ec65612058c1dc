import Foundation
import StyleCamCore

/// The styles compiled into the app: every NAME.mlmodelc in the bundle with its NAME.contract.json.
enum BundledModels {
    static func catalog(in bundle: Bundle = .main) -> ModelCatalog {
        guard let root = bundle.resourceURL,
              let enumerator = FileManager.default.enumerator(atPath: root.path) else {
            return ModelCatalog(paths: [])
        }
        var paths: [String] = []
        while let path = enumerator.nextObject() as? String {
            paths.append(path)
            if path.hasSuffix(ModelCatalog.compiledModelExtension) {
                enumerator.skipDescendants()
            }
        }
        return ModelCatalog(paths: paths)
    }
}
