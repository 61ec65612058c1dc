import CoreML
import CoreVideo
import StyleCamCore

/// One bundled style: its compiled Core ML model and contract, ready to stylize camera frames.
final class StyleModel: @unchecked Sendable {
    let name: String
    let contract: ModelContract
    private let model: MLModel
    private let inputScaler: ModelInputScaler
    private let outputPool: PixelBufferPool

    /// Loads `entry` from `resourceURL`: checks its contract, then the model's own feature descriptions.
    init(entry: CatalogEntry, resourceURL: URL) throws {
        let contractURL = resourceURL.appendingPathComponent(entry.contractPath)
        contract = try ModelContract.decode(from: Data(contentsOf: contractURL))
        try contract.validateForApp()
        name = entry.name

        let configuration = MLModelConfiguration()
        configuration.computeUnits = .all
        model = try MLModel(contentsOf: resourceURL.appendingPathComponent(entry.modelPath), configuration: configuration)

        let inputName = ModelContractConstants.inputName
        let outputName = ModelContractConstants.outputName
        guard let constraint = model.modelDescription.inputDescriptionsByName[inputName]?.imageConstraint else {
            throw StyleModelError.missingFeature(model: entry.name, feature: inputName)
        }
        guard constraint.pixelsWide == ModelContractConstants.inputWidth,
              constraint.pixelsHigh == ModelContractConstants.inputHeight else {
            throw StyleModelError.wrongSize(model: entry.name, feature: inputName, width: constraint.pixelsWide, height: constraint.pixelsHigh)
        }
        guard let outputConstraint = model.modelDescription.outputDescriptionsByName[outputName]?.imageConstraint else {
            throw StyleModelError.missingFeature(model: entry.name, feature: outputName)
        }
        guard outputConstraint.pixelsWide == ModelContractConstants.outputWidth,
              outputConstraint.pixelsHigh == ModelContractConstants.outputHeight else {
            throw StyleModelError.wrongSize(model: entry.name, feature: outputName, width: outputConstraint.pixelsWide, height: outputConstraint.pixelsHigh)
        }
        inputScaler = try ModelInputScaler(
            width: constraint.pixelsWide,
            height: constraint.pixelsHigh,
            aspect: Double(ModelContractConstants.cameraWidth) / Double(ModelContractConstants.cameraHeight)
        )
        outputPool = try PixelBufferPool(
            width: ModelContractConstants.outputWidth,
            height: ModelContractConstants.outputHeight,
            pixelFormat: kCVPixelFormatType_32BGRA
        )
    }

    /// Runs the model on one camera frame and returns the stylized frame as a Metal-compatible buffer.
    ///
    /// The frame is centre-cropped to 16:9 and scaled to the model's input size on the GPU first
    /// (`ModelInputScaler`); Core ML takes only inputs of the exact size.
    func stylize(_ cameraFrame: CVPixelBuffer) throws -> CVPixelBuffer {
        let input = MLFeatureValue(pixelBuffer: try inputScaler.scale(cameraFrame))
        let features = try MLDictionaryFeatureProvider(dictionary: [ModelContractConstants.inputName: input])
        let options = MLPredictionOptions()
        if #available(iOS 16.0, *) {
            options.outputBackings = [ModelContractConstants.outputName: try outputPool.makeBuffer()]
        }
        let result = try model.prediction(from: features, options: options)
        guard let output = result.featureValue(for: ModelContractConstants.outputName)?.imageBufferValue else {
            throw StyleModelError.missingFeature(model: name, feature: ModelContractConstants.outputName)
        }
        if CVPixelBufferGetIOSurface(output) != nil {
            return output
        }
        return try outputPool.copy(output)
    }
}

enum StyleModelError: Error, CustomStringConvertible {
    case missingFeature(model: String, feature: String)
    case wrongSize(model: String, feature: String, width: Int, height: Int)

    var description: String {
        switch self {
        case let .missingFeature(model, feature):
            return "Model \(model) has no image feature named \(feature)."
        case let .wrongSize(model, feature, width, height):
            return "Model \(model)'s \(feature) is \(width)x\(height), which does not match its contract."
        }
    }
}
