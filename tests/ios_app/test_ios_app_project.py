"""The committed Xcode project parses, is internally consistent and points at files that exist."""

import re

import pytest

from ios_app_paths import IOS_APP, PROJECT_FILE
from pbxproj_reader import PbxprojError, parse

OBJECT_ID = re.compile(r"^[0-9A-F]{24}$")


@pytest.fixture(scope="module")
def project():
    return parse(PROJECT_FILE.read_text())


def objects_of(project, isa):
    return {key: value for key, value in project["objects"].items() if value.get("isa") == isa}


def only(project, isa):
    found = list(objects_of(project, isa).values())
    assert len(found) == 1, f"expected one {isa}, found {len(found)}"
    return found[0]


def app_target(project):
    return only(project, "PBXNativeTarget")


def test_reader_parses_and_rejects():
    text = '// !$*UTF8*$!\n{ a = 1; /* note */ b = ( x, "y z", ); c = { d = "e\\"f"; }; }'
    assert parse(text) == {"a": "1", "b": ["x", "y z"], "c": {"d": 'e"f'}}
    for broken in (text.replace("a = 1;", "a = 1"), text[:-2], text.replace("// !$*UTF8*$!", "")):
        with pytest.raises(PbxprojError):
            parse(broken)


def test_xcode_16_format(project):
    assert project["objectVersion"] == "77"
    assert project["archiveVersion"] == "1"
    root = project["objects"][project["rootObject"]]
    assert root["isa"] == "PBXProject"
    assert root["preferredProjectObjectVersion"] == "77"


def test_every_object_reference_resolves(project):
    objects = project["objects"]

    def walk(value, where):
        if isinstance(value, dict):
            for key, item in value.items():
                walk(item, f"{where}.{key}")
        elif isinstance(value, list):
            for item in value:
                walk(item, where)
        elif isinstance(value, str) and OBJECT_ID.match(value):
            assert value in objects, f"{where} refers to missing object {value}"

    for key, value in objects.items():
        assert OBJECT_ID.match(key), f"bad object id {key}"
        assert "isa" in value, f"object {key} has no isa"
        walk(value, key)


def test_synchronized_group_is_the_app_folder(project):
    groups = objects_of(project, "PBXFileSystemSynchronizedRootGroup")
    assert len(groups) == 1
    group_id, group = next(iter(groups.items()))
    folder = IOS_APP / group["path"]
    assert folder.is_dir()
    assert (folder / "Models").is_dir(), "models go in StyleCam/Models inside the synchronized group"
    assert group_id in app_target(project)["fileSystemSynchronizedGroups"]
    for exception_id in group.get("exceptions", []):
        for path in project["objects"][exception_id]["membershipExceptions"]:
            assert (folder / path).exists(), f"exception names missing file {path}"


def test_file_references_exist(project):
    for key, reference in objects_of(project, "PBXFileReference").items():
        if reference["sourceTree"] in ("<group>", "SOURCE_ROOT"):
            assert (IOS_APP / reference["path"]).exists(), f"{key} points at missing {reference['path']}"
        else:
            assert reference["sourceTree"] == "BUILT_PRODUCTS_DIR", f"{key} has unexpected sourceTree"


def test_style_cam_core_is_a_local_package_dependency(project):
    package = only(project, "XCLocalSwiftPackageReference")
    package_dir = IOS_APP / package["relativePath"]
    manifest = (package_dir / "Package.swift").read_text()
    assert re.search(r"swift-tools-version:\s*(5\.9|6\.0)", manifest)
    assert '.library(name: "StyleCamCore"' in manifest

    root = project["objects"][project["rootObject"]]
    assert root["packageReferences"] == [next(iter(objects_of(project, "XCLocalSwiftPackageReference")))]
    dependency_ids = app_target(project)["packageProductDependencies"]
    assert [project["objects"][key]["productName"] for key in dependency_ids] == ["StyleCamCore"]
    linked = [
        project["objects"][build_file].get("productRef")
        for phase in objects_of(project, "PBXFrameworksBuildPhase").values()
        for build_file in phase["files"]
    ]
    assert dependency_ids[0] in linked, "StyleCamCore is not linked in the Frameworks phase"


def test_app_build_settings(project):
    target = app_target(project)
    assert target["productType"] == "com.apple.product-type.application"
    configurations = project["objects"][target["buildConfigurationList"]]["buildConfigurations"]
    assert len(configurations) == 2
    for key in configurations:
        settings = project["objects"][key]["buildSettings"]
        assert settings["GENERATE_INFOPLIST_FILE"] == "YES"
        assert "INFOPLIST_FILE" not in settings
        assert len(settings["INFOPLIST_KEY_NSCameraUsageDescription"]) > 20
        assert settings["IPHONEOS_DEPLOYMENT_TARGET"] == "15.0"
        assert settings["SWIFT_VERSION"] == "5.0"
        assert settings["SWIFT_STRICT_CONCURRENCY"] == "complete"
        assert settings["PRODUCT_BUNDLE_IDENTIFIER"]
        assert "UIInterfaceOrientationPortrait" in settings["INFOPLIST_KEY_UISupportedInterfaceOrientations_iPhone"]
        assert "UIInterfaceOrientationLandscapeRight" in settings["INFOPLIST_KEY_UISupportedInterfaceOrientations_iPhone"]
    project_configurations = project["objects"][project["objects"][project["rootObject"]]["buildConfigurationList"]]
    for key in project_configurations["buildConfigurations"]:
        assert project["objects"][key]["buildSettings"]["IPHONEOS_DEPLOYMENT_TARGET"] == "15.0"


def test_package_platform_matches_the_deployment_target():
    manifest = (IOS_APP / "StyleCamCore" / "Package.swift").read_text()
    assert ".iOS(.v15)" in manifest


def test_every_app_swift_file_is_in_the_target(project):
    """The synchronized group compiles every file under StyleCam/ except its membership exceptions."""
    group = only(project, "PBXFileSystemSynchronizedRootGroup")
    excluded = {
        path
        for exception_id in group.get("exceptions", [])
        for path in project["objects"][exception_id]["membershipExceptions"]
    }
    sources = sorted(path.relative_to(IOS_APP / group["path"]).as_posix() for path in (IOS_APP / group["path"]).rglob("*.swift"))
    assert "ModelInputScaler.swift" in sources
    assert not excluded & set(sources), f"Swift files left out of the app target: {sorted(excluded & set(sources))}"


def test_ci_compiles_the_app_as_the_project_builds_it(project):
    """scripts/ci_swift.sh's iOS stage uses the project's deployment target, language mode and checking."""
    script = (IOS_APP.parent / "scripts" / "ci_swift.sh").read_text()
    target = app_target(project)
    for key in project["objects"][target["buildConfigurationList"]]["buildConfigurations"]:
        settings = project["objects"][key]["buildSettings"]
        assert f"IOS_TARGET=arm64-apple-ios{settings['IPHONEOS_DEPLOYMENT_TARGET']}\n" in script
        swift_version = settings["SWIFT_VERSION"].split(".")[0]
        app_compile = re.search(r"swiftc \$flags (.*) -module-name StyleCam ", script)
        assert app_compile, "ci_swift.sh no longer compiles the app module StyleCam"
        assert f"-swift-version {swift_version}" in app_compile.group(1)
        assert f"-strict-concurrency={settings['SWIFT_STRICT_CONCURRENCY']}" in app_compile.group(1)
