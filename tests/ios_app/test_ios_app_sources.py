"""The app's Swift and Metal sources agree with the model contract and with each other."""

import re

import pytest

from ios_app_paths import APP_SOURCES, CORE_SOURCES, GENERATED_CONSTANTS, swift_files

STRING_LITERAL = re.compile(r'"((?:[^"\\\n]|\\.)*)"')
MAKE_FUNCTION = re.compile(r'makeFunction\(\s*name:\s*"([^"]+)"\s*\)')
METAL_ENTRY_POINT = re.compile(r"\b(?:vertex|fragment|kernel)\s+[\w:<>]+\s+(\w+)\s*\(")


def string_literals(swift: str) -> list[str]:
    code = re.sub(r"//[^\n]*", "", swift)
    return STRING_LITERAL.findall(code)


def metal_functions_named_by_swift(swift: str) -> set[str]:
    return set(MAKE_FUNCTION.findall(swift))


def metal_entry_points(metal: str) -> set[str]:
    return set(METAL_ENTRY_POINT.findall(metal))


def app_swift_sources():
    return [path for path in swift_files(APP_SOURCES, CORE_SOURCES) if path != GENERATED_CONSTANTS]


def test_helpers_find_what_they_look_for():
    assert string_literals('let a = "image" // "stylized"\nlet b = "x\\"y"') == ["image", 'x\\"y']
    assert metal_functions_named_by_swift('library.makeFunction(name: "passthroughVertex")') == {"passthroughVertex"}
    assert metal_entry_points("vertex Out v(uint i [[vertex_id]]) {}\nfragment float4 f() {}") == {"v", "f"}


@pytest.mark.parametrize("feature", ["inputName", "outputName"])
def test_feature_names_come_only_from_the_generated_constants(feature):
    value = re.search(rf'static let {feature} = "([^"]+)"', GENERATED_CONSTANTS.read_text()).group(1)
    sources = app_swift_sources()
    assert sources, "no Swift sources found"
    offenders = [str(path) for path in sources if value in string_literals(path.read_text())]
    assert not offenders, f'feature name "{value}" written as a literal in {offenders}; use ModelContractConstants.{feature}'


def test_the_model_is_fed_and_read_through_the_constants():
    model_code = (APP_SOURCES / "StyleModel.swift").read_text()
    assert "inputDescriptionsByName[inputName]" in model_code or "[ModelContractConstants.inputName: input]" in model_code
    assert "featureValue(for: ModelContractConstants.outputName)" in model_code


def test_every_metal_function_swift_names_exists_in_the_shaders():
    named = set()
    for path in swift_files(APP_SOURCES):
        named |= metal_functions_named_by_swift(path.read_text())
    defined = set()
    for path in sorted(APP_SOURCES.rglob("*.metal")):
        defined |= metal_entry_points(path.read_text())
    assert named, "no makeFunction(name:) call found in the app"
    assert named <= defined, f"Swift asks for Metal functions {sorted(named - defined)} that no .metal file defines"


def test_quad_vertex_layout_matches_the_shader():
    shader = (APP_SOURCES / "Shaders.metal").read_text()
    layout = re.search(r"struct QuadVertex \{\s*float2 position;\s*float2 textureCoordinate;\s*\};", shader)
    assert layout, "the shader's QuadVertex must be two float2 (x, y, u, v), as FrameRenderer packs it"
    renderer = (APP_SOURCES / "FrameRenderer.swift").read_text()
    assert "quad.flatMap { [$0.x, $0.y, $0.u, $0.v] }" in renderer


@pytest.mark.parametrize(
    "file, required",
    [
        ("CameraCapture.swift", "alwaysDiscardsLateVideoFrames = true"),
        ("CameraCapture.swift", "kCVPixelFormatType_32BGRA"),
        ("CameraCapture.swift", ".hd1920x1080"),
        ("StyleModel.swift", "computeUnits = .all"),
        ("StyleModel.swift", "MLFeatureValue(pixelBuffer: try inputScaler.scale(cameraFrame))"),
        ("ModelInputScaler.swift", "CIContext(mtlDevice: device"),
        ("ModelInputScaler.swift", "transformed(by: toInput, highQualityDownsample: true)"),
        ("ModelInputScaler.swift", "CIRenderDestination(pixelBuffer: input)"),
        ("StylePipeline.swift", "FrameGate<CVPixelBuffer>(targetFPS: Double(ModelContractConstants.fpsTarget))"),
        ("StylePipeline.swift", "next = gate.finish()"),
        ("FrameRenderer.swift", "CVMetalTextureCacheCreateTextureFromImage"),
    ],
)
def test_app_keeps_the_live_pipeline_settings(file, required):
    assert required in (APP_SOURCES / file).read_text()


def test_app_swift_has_no_commented_out_code():
    code_like = re.compile(r"^\s*//\s*(let|var|func|if|guard|return|self\.|try)\b")
    offenders = [
        f"{path.name}:{number}"
        for path in app_swift_sources()
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if code_like.match(line)
    ]
    assert not offenders


def test_core_files_that_use_core_graphics_import_it():
    """On iOS, CGRect's members come from CoreGraphics, which `import Foundation` alone does not bring."""
    guard = "#if canImport(CoreGraphics)\nimport CoreGraphics\n#endif\n"
    offenders = [
        path.name
        for path in swift_files(CORE_SOURCES)
        if re.search(r"\bCG(Rect|Size|Point|Float|AffineTransform)\b", path.read_text()) and guard not in path.read_text()
    ]
    assert not offenders, f"{offenders} use CoreGraphics types without importing CoreGraphics where it exists"
