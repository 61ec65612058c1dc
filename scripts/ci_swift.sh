#!/usr/bin/env bash
# The iOS app's checks that run on Linux:
#   1. StyleCamCore (the app's platform-independent Swift package) is built and its XCTest tests run
#      with a real Swift toolchain, Debian trixie's swiftlang, inside a cached chroot.
#      The library is also built alone in Swift 6 language mode with warnings as errors;
#   2. every app source under ios_app/StyleCam is parsed with `swiftc -parse` (Apple's frameworks do
#      not exist on Linux, so the app cannot be type-checked here);
#   3. the Metal shaders get a C++17 syntax check (g++) against ios_app/tools/metal_stub/metal_stdlib;
#   4. the project file is read by Foundation's plutil (the old-style plist format Xcode writes);
#   5. a self-test breaks a copy of the sources and asserts that each check then fails.
#
# Usage: scripts/ci_swift.sh [--no-self-test | --self-test]
# Environment: MOBILESTYLE_SWIFT_CHROOT (chroot location), MOBILESTYLE_DEBIAN_MIRROR.
# Exits 0 only when every check passed; prints why otherwise. Needs root (chroot, mount namespaces).
set -uo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
APP_DIR="$REPO/ios_app"
PACKAGE_DIR="$APP_DIR/StyleCamCore"
SOURCES_DIR="$APP_DIR/StyleCam"
PROJECT_FILE="$APP_DIR/StyleCam.xcodeproj/project.pbxproj"
# Attributes the Metal shaders may use; the stub cannot declare attributes, so they are checked by name.
METAL_ATTRIBUTES="position vertex_id instance_id stage_in buffer texture sampler color"

# shellcheck source=scripts/swift_chroot.sh
source "$REPO/scripts/swift_chroot.sh"

RUN_MAIN=1
RUN_SELF_TEST=1
case "${1:-}" in
    "") ;;
    --no-self-test) RUN_SELF_TEST=0 ;;
    --self-test) RUN_MAIN=0 ;;
    *) echo "usage: $0 [--no-self-test | --self-test]" >&2; exit 2 ;;
esac

START=$(date +%s)
PASSED=()
FAILED=()
WORK=""

cleanup() {
    [ -n "$WORK" ] && rm -rf "$WORK"
}
trap cleanup EXIT

die() {
    echo "ci_swift: FAILED: $*" >&2
    echo "ci_swift: SUMMARY: setup failed, no check ran ($(( $(date +%s) - START )) s)" >&2
    exit 1
}

# Runs one named check; its output is shown only when it fails.
check() {
    local name=$1 log t0
    shift
    log=$(mktemp)
    t0=$(date +%s)
    if "$@" >"$log" 2>&1; then
        echo "ci_swift: [PASS] $name ($(( $(date +%s) - t0 )) s)"
        PASSED+=("$name")
    else
        echo "ci_swift: [FAIL] $name ($(( $(date +%s) - t0 )) s); its output:" >&2
        sed 's/^/    /' "$log" | tail -n 80 >&2
        FAILED+=("$name")
    fi
    rm -f "$log"
}

# Runs a check that must fail on deliberately broken input, with output matching the expected reason
# (so that a check failing for an unrelated reason, such as a wrong path, is not taken for a catch).
check_fails() {
    local name=$1 reason=$2 log
    shift 2
    log=$(mktemp)
    if "$@" >"$log" 2>&1; then
        echo "ci_swift: [FAIL] self-test: $name passed on broken input, so it cannot catch errors" >&2
        sed 's/^/    /' "$log" | tail -n 20 >&2
        FAILED+=("self-test: $name")
    elif ! grep -qE "$reason" "$log"; then
        echo "ci_swift: [FAIL] self-test: $name failed, but not with /$reason/; its output:" >&2
        sed 's/^/    /' "$log" | tail -n 40 >&2
        FAILED+=("self-test: $name")
    else
        echo "ci_swift: [PASS] self-test: $name fails on broken input"
        PASSED+=("self-test: $name")
    fi
    rm -f "$log"
}

# Copies ios_app into the chroot (fresh, without build products) at /work/<label>/ios_app.
stage_app() {
    local label=$1 source=$2 target
    target="$(swift_chroot_dir)/work/$label"
    rm -rf "$target"
    mkdir -p "$target"
    tar -C "$(dirname "$source")" --exclude=.build --exclude=.swiftpm -cf - "$(basename "$source")" | tar -C "$target" -xf -
}

swift_package_tests() {
    local label=$1
    swift_chroot_run "cd /work/$label/ios_app/StyleCamCore && swift build --build-tests --scratch-path /var/cache/stylecam-build/$label 2>&1 && swift test --skip-build --scratch-path /var/cache/stylecam-build/$label 2>&1"
}

# The library alone in Swift 6 language mode (complete concurrency checking), warnings as errors. The
# test target is left out: on Linux, XCTest's generated test list does not compile in Swift 6 mode.
swift_core_strict() {
    local label=$1
    swift_chroot_run "cd /work/$label/ios_app/StyleCamCore && swift build --target StyleCamCore --scratch-path /var/cache/stylecam-build/$label-swift6 -Xswiftc -swift-version -Xswiftc 6 -Xswiftc -warnings-as-errors 2>&1"
}

swift_parse_app_sources() {
    local label=$1 files
    files=$(cd "$(swift_chroot_dir)/work/$label/ios_app" && find StyleCam -name '*.swift' | sort)
    [ -n "$files" ] || { echo "no Swift sources under ios_app/StyleCam"; return 1; }
    echo "$files"
    swift_chroot_run "cd /work/$label/ios_app && swiftc -parse $(echo "$files" | tr '\n' ' ')"
}

metal_syntax() {
    local app=$1 shaders attributes unknown="" attribute
    shaders=$(find "$app/StyleCam" -name '*.metal' | sort)
    [ -n "$shaders" ] || { echo "no .metal file under ios_app/StyleCam"; return 1; }
    for shader in $shaders; do
        attributes=$(grep -oE '\[\[[[:space:]]*[a-z_]+' "$shader" | sed -E 's/\[\[[[:space:]]*//' | sort -u)
        for attribute in $attributes; do
            case " $METAL_ATTRIBUTES " in
                *" $attribute "*) ;;
                *) unknown="$unknown $attribute" ;;
            esac
        done
        [ -z "$unknown" ] || { echo "$shader uses unknown Metal attributes:$unknown"; return 1; }
        echo "g++ -fsyntax-only $shader"
        g++ -fsyntax-only -x c++ -std=c++17 -Wall -Wextra -Werror -Wno-attributes -I "$app/tools/metal_stub" "$shader" || return 1
    done
}

# Foundation's plutil (shipped with swiftlang) reads the old-style plist; it exits 0 even on a parse
# error, so success is its "OK" line.
project_plist_lint() {
    local project=$1 output
    mkdir -p "$(swift_chroot_dir)/work/project"
    cp "$project" "$(swift_chroot_dir)/work/project/project.pbxproj"
    output=$(swift_chroot_run "/usr/libexec/swift/bin/plutil -lint -- /work/project/project.pbxproj 2>&1")
    echo "$output"
    [ "$output" = "/work/project/project.pbxproj: OK" ]
}

break_swift_syntax() {
    printf '\nfunc deliberatelyBroken( {\n' >>"$1"
}

break_swift_types() {
    printf '\nlet deliberatelyBroken: Int = "not an int"\n' >>"$1"
}

break_test_expectation() {
    sed -i 's/XCTAssertEqual(accepted.count, 150)/XCTAssertEqual(accepted.count, 151)/' "$1"
    grep -q 'accepted.count, 151' "$1"
}

self_test() {
    local broken="$WORK/broken"
    rm -rf "$broken"
    mkdir -p "$broken"
    cp -r "$APP_DIR" "$broken/ios_app"
    rm -rf "$broken/ios_app/StyleCamCore/.build"

    local app_source core_source test_source shader
    app_source=$(find "$broken/ios_app/StyleCam" -name '*.swift' | sort | head -n 1)
    core_source="$broken/ios_app/StyleCamCore/Sources/StyleCamCore/FramePacer.swift"
    test_source="$broken/ios_app/StyleCamCore/Tests/StyleCamCoreTests/FramePacerTests.swift"
    shader=$(find "$broken/ios_app/StyleCam" -name '*.metal' | sort | head -n 1)
    [ -f "$app_source" ] && [ -f "$core_source" ] && [ -f "$test_source" ] && [ -f "$shader" ] \
        || { FAILED+=("self-test: setup"); echo "ci_swift: [FAIL] self-test: sources to break not found" >&2; return; }

    break_swift_syntax "$app_source"
    stage_app selftest-parse "$broken/ios_app"
    check_fails "swiftc -parse of app sources" "error: expected" swift_parse_app_sources selftest-parse

    cp "$core_source" "$core_source.orig"
    break_swift_types "$core_source"
    stage_app selftest-build "$broken/ios_app"
    check_fails "StyleCamCore build" "FramePacer.swift:[0-9]+:[0-9]+: error: cannot convert value" swift_package_tests selftest-build
    mv "$core_source.orig" "$core_source"

    if break_test_expectation "$test_source"; then
        stage_app selftest-test "$broken/ios_app"
        check_fails "StyleCamCore tests" "XCTAssertEqual failed: \\(\"150\"\\) is not equal to \\(\"151\"\\)" swift_package_tests selftest-test
    else
        echo "ci_swift: [FAIL] self-test: the expectation to break is no longer in FramePacerTests.swift" >&2
        FAILED+=("self-test: StyleCamCore tests")
    fi

    printf '\nfragment float4 deliberatelyBroken() { return undeclaredValue; }\n' >>"$shader"
    check_fails "Metal syntax check" "undeclaredValue" metal_syntax "$broken/ios_app"

    local project="$broken/ios_app/StyleCam.xcodeproj/project.pbxproj"
    sed -i '0,/isa = PBXGroup;/s//isa = PBXGroup/' "$project"
    check_fails "project.pbxproj plutil -lint" "missing semicolon|not in the correct format" project_plist_lint "$project"
}

[ "$(id -u)" = 0 ] || die "needs root (it uses chroot and a private mount namespace)"
[ -d "$PACKAGE_DIR" ] && [ -d "$SOURCES_DIR" ] || die "ios_app/StyleCamCore or ios_app/StyleCam is missing"
command -v g++ >/dev/null || die "g++ is missing on the host (apt-get install g++); it syntax-checks the Metal shaders"
mkdir -p "$(dirname "$(swift_chroot_dir)")" || die "cannot create $(dirname "$(swift_chroot_dir)")"
exec 9>"$(swift_chroot_dir).lock"
flock 9 || die "cannot lock $(swift_chroot_dir).lock (another ci_swift.sh run holds it)"
swift_chroot_ensure || die "the Swift toolchain chroot could not be set up at $(swift_chroot_dir)"
swift_chroot_run "swift --version" >/dev/null 2>&1 || die "swift does not run in $(swift_chroot_dir); delete it to rebuild"
echo "ci_swift: toolchain: $(swift_chroot_run 'swift --version 2>&1' | head -n 1)"
WORK=$(mktemp -d)

if [ "$RUN_MAIN" = 1 ]; then
    stage_app main "$APP_DIR"
    check "StyleCamCore build and XCTest" swift_package_tests main
    check "StyleCamCore in Swift 6 mode, warnings as errors" swift_core_strict main
    check "swiftc -parse of app sources" swift_parse_app_sources main
    check "Metal shader syntax" metal_syntax "$APP_DIR"
    check "project.pbxproj plutil -lint" project_plist_lint "$PROJECT_FILE"
fi
if [ "$RUN_SELF_TEST" = 1 ]; then
    self_test
fi

ELAPSED=$(( $(date +%s) - START ))
if [ ${#FAILED[@]} -gt 0 ]; then
    echo "ci_swift: SUMMARY: FAILED ${#FAILED[@]} of $(( ${#PASSED[@]} + ${#FAILED[@]} )) checks: ${FAILED[*]} ($ELAPSED s)" >&2
    exit 1
fi
if [ ${#PASSED[@]} -eq 0 ]; then
    echo "ci_swift: SUMMARY: FAILED: no check ran ($ELAPSED s)" >&2
    exit 1
fi
echo "ci_swift: SUMMARY: all ${#PASSED[@]} checks passed ($ELAPSED s)"
