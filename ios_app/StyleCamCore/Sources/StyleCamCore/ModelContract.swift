import Foundation

/// The `NAME.contract.json` that `mobilestyle export` writes next to each model.
public struct ModelContract: Codable, Equatable, Sendable {
    public struct ImageFeature: Codable, Equatable, Sendable {
        public var name: String
        public var type: String
        public var colorLayout: String
        public var width: Int
        public var height: Int
        public var pixelRange: [Int]
    }

    public struct Camera: Codable, Equatable, Sendable {
        public var width: Int
        public var height: Int
        public var pixelFormat: String
    }

    public struct Style: Codable, Equatable, Sendable {
        public var name: String
        public var sourcePainting: String?
        public var licence: String?
    }

    public var format: String
    public var name: String
    public var modelFile: String
    public var modelFormat: String
    public var minimumIos: String
    public var input: ImageFeature
    public var output: ImageFeature
    public var camera: Camera
    public var fpsTarget: Int
    public var style: Style
    public var architecture: String?
    public var macs: Int64?
    public var parameters: Int64?
    public var mobilestyleVersion: String?

    /// Parses contract JSON (snake_case keys, as the Python exporter writes them).
    public static func decode(from data: Data) throws -> ModelContract {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        do {
            return try decoder.decode(ModelContract.self, from: data)
        } catch let error as DecodingError {
            throw ContractError.unreadable(Self.describe(error))
        }
    }

    /// Checks that the model takes and returns what the app feeds and draws (`ModelContractConstants`).
    public func validateForApp() throws {
        try expect(format == ModelContractConstants.contractFormat, "format is \(format), expected \(ModelContractConstants.contractFormat)")
        try expect(
            input.type == ModelContractConstants.featureType && output.type == ModelContractConstants.featureType,
            "input and output must be \(ModelContractConstants.featureType) features"
        )
        try expect(input.name == ModelContractConstants.inputName, "input is named \(input.name), the app feeds \(ModelContractConstants.inputName)")
        try expect(output.name == ModelContractConstants.outputName, "output is named \(output.name), the app reads \(ModelContractConstants.outputName)")
        try expect(input.colorLayout == ModelContractConstants.inputColorLayout, "input colour layout is \(input.colorLayout)")
        try expect(output.colorLayout == ModelContractConstants.outputColorLayout, "output colour layout is \(output.colorLayout)")
        try expect(
            input.width == ModelContractConstants.inputWidth && input.height == ModelContractConstants.inputHeight,
            "input is \(input.width)x\(input.height), the app feeds \(ModelContractConstants.inputWidth)x\(ModelContractConstants.inputHeight)"
        )
        try expect(
            output.width == ModelContractConstants.outputWidth && output.height == ModelContractConstants.outputHeight,
            "output is \(output.width)x\(output.height), the app draws \(ModelContractConstants.outputWidth)x\(ModelContractConstants.outputHeight)"
        )
        try expect(
            camera.width == ModelContractConstants.cameraWidth && camera.height == ModelContractConstants.cameraHeight,
            "camera is \(camera.width)x\(camera.height), the app captures \(ModelContractConstants.cameraWidth)x\(ModelContractConstants.cameraHeight)"
        )
        try expect(fpsTarget > 0, "fps_target must be positive")
    }

    private func expect(_ condition: Bool, _ reason: @autoclosure () -> String) throws {
        if !condition {
            throw ContractError.incompatible(name: name, reason: reason())
        }
    }

    private static func describe(_ error: DecodingError) -> String {
        switch error {
        case .keyNotFound(let key, let context):
            return "missing field \(path(context.codingPath + [key]))"
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            return "wrong type at \(path(context.codingPath))"
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty ? "not valid JSON" : "bad value at \(path(context.codingPath))"
        @unknown default:
            return "unreadable contract"
        }
    }

    private static func path(_ keys: [CodingKey]) -> String {
        keys.map(\.stringValue).joined(separator: ".")
    }
}

public enum ContractError: Error, Equatable, CustomStringConvertible {
    case unreadable(String)
    case incompatible(name: String, reason: String)

    public var description: String {
        switch self {
        case .unreadable(let reason):
            return "Cannot read the model contract: \(reason)."
        case .incompatible(let name, let reason):
            return "Model \(name) does not fit this app: \(reason)."
        }
    }
}
