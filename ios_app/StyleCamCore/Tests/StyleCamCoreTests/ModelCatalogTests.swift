import XCTest
@testable import StyleCamCore

final class ModelCatalogTests: XCTestCase {
    func testPairsModelsWithContractsAndSortsByName() {
        let catalog = ModelCatalog(paths: [
            "Info.plist",
            "udnie.mlmodelc",
            "udnie.mlmodelc/model.espresso.net",
            "udnie.mlmodelc/coremldata.bin",
            "muse.contract.json",
            "muse.mlmodelc",
            "muse.mlmodelc/metadata.json",
            "udnie.contract.json",
            "README.md",
        ])
        XCTAssertEqual(catalog.entries.map(\.name), ["muse", "udnie"])
        XCTAssertEqual(catalog.entries[0], CatalogEntry(name: "muse", modelPath: "muse.mlmodelc", contractPath: "muse.contract.json"))
        XCTAssertEqual(catalog.problems, [])
    }

    func testReportsUnpairedFiles() {
        let catalog = ModelCatalog(paths: ["wave.mlmodelc", "scream.contract.json", "muse.mlmodelc", "muse.contract.json"])
        XCTAssertEqual(catalog.entries.map(\.name), ["muse"])
        XCTAssertEqual(catalog.problems, [
            "scream.contract.json has no compiled model scream.mlmodelc",
            "wave.mlmodelc has no wave.contract.json next to it",
        ])
    }

    func testContractMustSitInTheSameFolder() {
        let catalog = ModelCatalog(paths: ["Models/muse.mlmodelc", "muse.contract.json"])
        XCTAssertTrue(catalog.entries.isEmpty)
        XCTAssertEqual(catalog.problems.count, 2)
    }

    func testModelsInSubfoldersAreFound() {
        let catalog = ModelCatalog(paths: ["Models/muse.mlmodelc", "Models/muse.contract.json"])
        XCTAssertEqual(catalog.entries, [CatalogEntry(name: "muse", modelPath: "Models/muse.mlmodelc", contractPath: "Models/muse.contract.json")])
    }

    func testUncompiledModelsAndEmptyBundleGiveNothing() {
        let catalog = ModelCatalog(paths: ["muse.mlmodel", ".mlmodelc", "Info.plist"])
        XCTAssertTrue(catalog.entries.isEmpty)
        XCTAssertTrue(catalog.problems.isEmpty)
    }
}
