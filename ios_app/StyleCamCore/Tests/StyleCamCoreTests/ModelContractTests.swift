import XCTest
@testable import StyleCamCore

final class ModelContractTests: XCTestCase {
    static let exampleJSON = """
    {"format": "mobilestyle.contract/1", "name": "muse", "model_file": "muse.mlmodel",
     "model_format": "neuralnetwork", "minimum_ios": "14.0",
     "input": {"name": "image", "type": "image", "color_layout": "RGB", "width": 853, "height": 480, "pixel_range": [0, 255]},
     "output": {"name": "stylized", "type": "image", "color_layout": "RGB", "width": 1920, "height": 1080, "pixel_range": [0, 255]},
     "camera": {"width": 1920, "height": 1080, "pixel_format": "BGRA"}, "fps_target": 15,
     "style": {"name": "muse", "source_painting": "La Muse (Picasso, 1935)", "licence": "copyrighted: research only"},
     "architecture": "blocks=3", "macs": 48039629568, "parameters": 1679235, "mobilestyle_version": "0.1.0"}
    """

    private func decodeExample(_ edit: (inout [String: Any]) -> Void = { _ in }) throws -> ModelContract {
        var object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(Self.exampleJSON.utf8)) as? [String: Any])
        edit(&object)
        return try ModelContract.decode(from: JSONSerialization.data(withJSONObject: object))
    }

    func testDecodesTheExporterOutput() throws {
        let contract = try decodeExample()
        XCTAssertEqual(contract.name, "muse")
        XCTAssertEqual(contract.modelFile, "muse.mlmodel")
        XCTAssertEqual(contract.minimumIos, "14.0")
        XCTAssertEqual(contract.input.name, ModelContractConstants.inputName)
        XCTAssertEqual(contract.input.width, 853)
        XCTAssertEqual(contract.input.pixelRange, [0, 255])
        XCTAssertEqual(contract.output.colorLayout, "RGB")
        XCTAssertEqual(contract.camera.pixelFormat, "BGRA")
        XCTAssertEqual(contract.fpsTarget, 15)
        XCTAssertEqual(contract.style.sourcePainting, "La Muse (Picasso, 1935)")
        XCTAssertEqual(contract.macs, 48_039_629_568)
        XCTAssertNoThrow(try contract.validateForApp())
    }

    func testMissingFieldIsNamed() {
        XCTAssertThrowsError(try decodeExample { object in
            var input = object["input"] as! [String: Any]
            input.removeValue(forKey: "width")
            object["input"] = input
        }) { error in
            XCTAssertEqual(error as? ContractError, .unreadable("missing field input.width"))
        }
    }

    func testInvalidJSONIsReported() {
        XCTAssertThrowsError(try ModelContract.decode(from: Data("{not json".utf8))) { error in
            XCTAssertEqual(error as? ContractError, .unreadable("not valid JSON"))
        }
    }

    func testWrongOutputSizeIsIncompatible() throws {
        let contract = try decodeExample { object in
            var output = object["output"] as! [String: Any]
            output["width"] = 1280
            output["height"] = 720
            object["output"] = output
        }
        XCTAssertThrowsError(try contract.validateForApp()) { error in
            XCTAssertEqual(String(describing: error), "Model muse does not fit this app: output is 1280x720, the app draws 1920x1080.")
        }
    }

    func testRenamedInputIsIncompatible() throws {
        let contract = try decodeExample { object in
            var input = object["input"] as! [String: Any]
            input["name"] = "input_1"
            object["input"] = input
        }
        XCTAssertThrowsError(try contract.validateForApp())
    }

    func testOtherFormatVersionIsIncompatible() throws {
        let contract = try decodeExample { $0["format"] = "mobilestyle.contract/2" }
        XCTAssertThrowsError(try contract.validateForApp())
    }

    func testGeneratedConstantsDescribeTheFrameGeometry() {
        XCTAssertEqual(Double(ModelContractConstants.cameraWidth) / Double(ModelContractConstants.cameraHeight), 16.0 / 9, accuracy: 1e-9)
        XCTAssertEqual(ModelContractConstants.outputWidth, ModelContractConstants.cameraWidth)
        XCTAssertEqual(ModelContractConstants.outputHeight, ModelContractConstants.cameraHeight)
        XCTAssertLessThan(ModelContractConstants.inputWidth, ModelContractConstants.outputWidth)
    }
}
