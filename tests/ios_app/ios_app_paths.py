"""Where the iOS app's files are, for the consistency checks in this folder."""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
IOS_APP = REPO_ROOT / "ios_app"
APP_SOURCES = IOS_APP / "StyleCam"
CORE_SOURCES = IOS_APP / "StyleCamCore" / "Sources" / "StyleCamCore"
GENERATED_CONSTANTS = CORE_SOURCES / "ModelContract+Generated.swift"
GENERATOR = IOS_APP / "tools" / "generate_contract_swift.py"
PROJECT_FILE = IOS_APP / "StyleCam.xcodeproj" / "project.pbxproj"


def swift_files(*folders: Path) -> list[Path]:
    return sorted(path for folder in folders for path in folder.rglob("*.swift"))
