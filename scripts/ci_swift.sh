#!/usr/bin/env bash
# The iOS app's checks that run on Linux:
#   1. StyleCamCore (the app's platform-independent Swift package) is built and its XCTest tests run
#      with a real Swift toolchain, Debian trixie's swiftlang, inside a cached chroot.
#      The library is also built alone in Swift 6 language mode with warnings as errors;
#   2. every app source under ios_app/StyleCam is parsed with `swiftc -parse` (a syntax check that needs
#      no SDK; stage 5 type-checks and compiles the app where the iOS SDK slice is);
#   3. the Metal shaders get a C++17 syntax check (g++) against ios_app/tools/metal_stub/metal_stdlib;
#   4. the project file is read by Foundation's plutil (the old-style plist format Xcode writes);
#   5. StyleCamCore and then every app source are compiled for the phone (arm64-apple-ios15.0) to object
#      files against a slice of Apple's iOS 18.6 SDK (../shared/data/ios-sdk, unpacked beside the
#      chroot), so API misuse and APIs newer than the deployment target are errors here too;
#   6. a self-test breaks a copy of the sources and asserts that each check then fails.
#
# Usage: scripts/ci_swift.sh [--no-self-test | --self-test]
# Environment: MOBILESTYLE_SWIFT_CHROOT (chroot location), MOBILESTYLE_DEBIAN_MIRROR,
#   MOBILESTYLE_IOS_SDK (the SDK: a .sdk.tar.xz or an unpacked .sdk folder; default: the slice in
#   ../shared/data/ios-sdk), CI (when "true", a missing SDK fails the run instead of skipping stage 5).
# Exits 0 only when every check passed; prints why otherwise. Needs root (chroot, mount namespaces).
set -uo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
APP_DIR="$REPO/ios_app"
PACKAGE_DIR="$APP_DIR/StyleCamCore"
SOURCES_DIR="$APP_DIR/StyleCam"
PROJECT_FILE="$APP_DIR/StyleCam.xcodeproj/project.pbxproj"
# Attributes the Metal shaders may use; the stub cannot declare attributes, so they are checked by name.
METAL_ATTRIBUTES="position vertex_id instance_id stage_in buffer texture sampler color"
# The app's deployment target (IPHONEOS_DEPLOYMENT_TARGET in the project) and the SDK it is compiled against.
IOS_TARGET=arm64-apple-ios15.0
IOS_SDK_DEFAULT="$(cd "$REPO/.." && pwd)/shared/data/ios-sdk/iPhoneOS18.6-swift-typecheck.sdk.tar.xz"
IOS_SDK="${MOBILESTYLE_IOS_SDK:-$IOS_SDK_DEFAULT}"

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
SKIPPED=""
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

# --- Stage 5: the app compiled for the phone against the iOS SDK ------------------------------------
# Beside the chroot, in $(ios_cache_dir), bind-mounted at $IOS_GUEST inside it:
#   sdk/NAME.sdk    the unpacked slice (sdk.key names the archive it came from; a new archive replaces it)
#   resource-dir/   only shims, clang and host, linked to the chroot's own: the whole Linux resource
#                   dir's CoreFoundation and Dispatch modules clash with the SDK's
#   module-cache-slice/   the SDK's modules, compiled by the first run (3 to 6 minutes on 2 cores) and
#                         kept while module-cache-slice.key (SDK, toolchain, target) stays the same
# An unpacked SDK folder (MOBILESTYLE_IOS_SDK=/path/iPhoneOS.sdk) is bind-mounted at $IOS_SDK_FOLDER_GUEST
# and gets a module cache of its own, module-cache-folder/, so that switching does not throw the other away.
IOS_GUEST=/opt/ios-sdk
IOS_SDK_FOLDER_GUEST=/opt/ios-sdk-folder
IOS_SDK_GUEST=""
IOS_MODULE_CACHE=""

ios_cache_dir() {
    echo "$(dirname "$(swift_chroot_dir)")/ios-sdk"
}

# 0 when the SDK is there; otherwise says so and returns 1 in CI (CI=true) or 2 (skipped) elsewhere.
ios_sdk_present() {
    [ -e "$IOS_SDK" ] && return 0
    if [ "${CI:-}" = true ]; then
        {
            echo "ci_swift: ################################################################################"
            echo "ci_swift: [FAIL] iOS SDK compile: no iOS SDK at $IOS_SDK"
            echo "ci_swift:        CI must compile the app for the phone. Put ../shared (with data/ios-sdk/) beside"
            echo "ci_swift:        the checkout, or point MOBILESTYLE_IOS_SDK at an iPhoneOS .sdk folder or .sdk.tar.xz."
            echo "ci_swift: ################################################################################"
        } >&2
        return 1
    fi
    if [ "$IOS_SDK" = "$IOS_SDK_DEFAULT" ]; then
        echo "ci_swift: [SKIP] iOS SDK compile skipped: no iOS SDK at $IOS_SDK (../shared/data is not beside"
        echo "ci_swift:        this checkout), so the app was not compiled for the phone. Set MOBILESTYLE_IOS_SDK to"
        echo "ci_swift:        an iPhoneOS .sdk folder or to the slice's .sdk.tar.xz to run this stage."
    else
        echo "ci_swift: [SKIP] iOS SDK compile skipped: MOBILESTYLE_IOS_SDK=$IOS_SDK does not exist, so the app"
        echo "ci_swift:        was not compiled for the phone."
    fi
    return 2
}

ios_chroot_run() {
    local binds=(-b "$(ios_cache_dir):$IOS_GUEST")
    [ -d "$IOS_SDK" ] && binds+=(-b "$(cd "$IOS_SDK" && pwd):$IOS_SDK_FOLDER_GUEST")
    swift_chroot_run "${binds[@]}" "$1"
}

# Unpacks the SDK (once per archive), links the resource dir and drops a module cache that no longer fits.
ios_sdk_prepare() {
    local cache key kind name clang_dir link module_key t0
    cache=$(ios_cache_dir)
    mkdir -p "$cache" || return 1
    if [ -d "$IOS_SDK" ]; then
        [ -f "$IOS_SDK/SDKSettings.json" ] || { echo "ci_swift: $IOS_SDK has no SDKSettings.json; is it an SDK?"; return 1; }
        kind=folder
        key="folder $(cd "$IOS_SDK" && pwd) $(cksum <"$IOS_SDK/SDKSettings.json")"
        IOS_SDK_GUEST=$IOS_SDK_FOLDER_GUEST
    else
        kind=slice
        key="archive $(sha256sum <"$IOS_SDK" | cut -d' ' -f1)"
        if [ "$(cat "$cache/sdk.key" 2>/dev/null)" != "$key" ] || [ ! -d "$cache/sdk" ]; then
            t0=$(date +%s)
            echo "ci_swift: unpacking $IOS_SDK into $cache/sdk"
            rm -rf "$cache/sdk" "$cache/sdk.partial" "$cache/sdk.key"
            mkdir -p "$cache/sdk.partial"
            tar -C "$cache/sdk.partial" -xJf "$IOS_SDK" || { echo "ci_swift: cannot unpack $IOS_SDK"; return 1; }
            mv "$cache/sdk.partial" "$cache/sdk"
            echo "$key" >"$cache/sdk.key"
            echo "ci_swift: unpacked in $(( $(date +%s) - t0 )) s"
        fi
        name=$(cd "$cache/sdk" && find . -maxdepth 1 -name '*.sdk' -type d | sort | head -n 1)
        [ -n "$name" ] || { echo "ci_swift: $IOS_SDK holds no *.sdk folder"; return 1; }
        IOS_SDK_GUEST=$IOS_GUEST/sdk/${name#./}
    fi

    clang_dir=$(swift_chroot_run "readlink -f /usr/libexec/swift/lib/swift/clang") || return 1
    mkdir -p "$cache/resource-dir"
    for link in shims:/usr/libexec/swift/lib/swift/shims host:/usr/libexec/swift/lib/swift/host "clang:$clang_dir"; do
        ln -sfn "${link#*:}" "$cache/resource-dir/${link%%:*}"
    done

    # The cache records its own path, so the path is part of the key too.
    module_key="$key | $(swift_chroot_run 'swift --version 2>&1' | head -n 1) | $clang_dir | $IOS_TARGET | $IOS_GUEST/module-cache-$kind"
    if [ "$(cat "$cache/module-cache-$kind.key" 2>/dev/null)" != "$module_key" ]; then
        rm -rf "$cache/module-cache-$kind"
        echo "$module_key" >"$cache/module-cache-$kind.key"
        echo "ci_swift: new module cache for this SDK and toolchain: the first compile builds the SDK's modules (3 to 6 min on 2 cores)"
    fi
    mkdir -p "$cache/module-cache-$kind"
    IOS_MODULE_CACHE=$IOS_GUEST/module-cache-$kind
}

# Compiles StyleCamCore (as SwiftPM does: Swift 5 mode, complete concurrency checking) to a module and
# object files, then every app source against it (as the Xcode target does: SWIFT_VERSION 5.0,
# SWIFT_STRICT_CONCURRENCY complete) to object files; -c runs the SIL diagnostics too, not only the
# type checker. Prints the diagnostics, then "iOS compile: N errors, M warnings"; fails on any error.
ios_compile() {
    local label=$1 app build flags output rc errors warnings core_count app_count
    app="/work/$label/ios_app"
    build="/var/cache/stylecam-build/$label-ios"
    core_count=$(find "$(swift_chroot_dir)$app/StyleCamCore/Sources" -name '*.swift' | wc -l)
    app_count=$(find "$(swift_chroot_dir)$app/StyleCam" -name '*.swift' | wc -l)
    [ "$core_count" -gt 0 ] && [ "$app_count" -gt 0 ] || { echo "no Swift sources under $app"; return 1; }
    flags="-target $IOS_TARGET -sdk $IOS_SDK_GUEST -resource-dir $IOS_GUEST/resource-dir"
    flags="$flags -module-cache-path $IOS_MODULE_CACHE -diagnostic-style llvm -continue-building-after-errors -j 2"
    output="$WORK/ios-compile-$label.log"
    ios_chroot_run "set -e
rm -rf $build && mkdir -p $build/core $build/app
cd $build/core
swiftc $flags -swift-version 5 -strict-concurrency=complete -parse-as-library -module-name StyleCamCore \
    -emit-module -emit-module-path $build/StyleCamCore.swiftmodule -c \$(find $app/StyleCamCore/Sources -name '*.swift' | sort)
cd $build/app
swiftc $flags -swift-version 5 -strict-concurrency=complete -module-name StyleCam -I $build -c \$(find $app/StyleCam -name '*.swift' | sort)
echo \"compiled to arm64 objects: \$(ls $build/core/*.o | wc -l) StyleCamCore sources, \$(ls $build/app/*.o | wc -l) app sources\"" \
        >"$output" 2>&1
    rc=$?
    sed "s|/work/$label/||g" "$output"
    errors=$(grep -cE '(^|: )error: ' "$output")
    warnings=$(grep -cE '(^|: )warning: ' "$output")
    echo "iOS compile: $errors errors, $warnings warnings ($core_count StyleCamCore and $app_count app sources)"
    [ "$rc" = 0 ] && [ "$errors" = 0 ] || return 1
    grep -q "compiled to arm64 objects: $core_count StyleCamCore sources, $app_count app sources" "$output" \
        || { echo "not every source became an object file"; return 1; }
}

# Stage 5 in the main run: always shows the counts and every warning; fails on errors.
ios_compile_stage() {
    local name="iOS compile for $IOS_TARGET against $(basename "$IOS_SDK")" log t0 rc summary
    ios_sdk_present
    case $? in
        1) FAILED+=("$name (no SDK)"); return ;;
        2) SKIPPED=" (iOS compile skipped: no SDK)"; return ;;
    esac
    log=$(mktemp)
    t0=$(date +%s)
    if ! ios_sdk_prepare >"$log" 2>&1; then
        echo "ci_swift: [FAIL] $name: the SDK could not be prepared:" >&2
        sed 's/^/    /' "$log" >&2
        FAILED+=("$name")
        rm -f "$log"
        return
    fi
    cat "$log"
    ios_compile main >"$log" 2>&1
    rc=$?
    summary=$(grep '^iOS compile: ' "$log" | tail -n 1)
    if [ "$rc" = 0 ]; then
        echo "ci_swift: [PASS] $name: ${summary#iOS compile: } ($(( $(date +%s) - t0 )) s)"
        grep -E '(^|: )warning: ' "$log" | sed 's/^/    /'
        PASSED+=("$name")
    else
        echo "ci_swift: [FAIL] $name: ${summary#iOS compile: } ($(( $(date +%s) - t0 )) s); its output:" >&2
        if [ "$(wc -l <"$log")" -le 300 ]; then
            sed 's/^/    /' "$log" >&2
        else
            echo "    (long output: the diagnostics' first lines only)" >&2
            grep -E '(^|: )(error|warning): |^iOS compile: ' "$log" | sed 's/^/    /' >&2
        fi
        FAILED+=("$name")
    fi
    rm -f "$log"
}

# For the self-test: what a missing SDK does in CI and elsewhere.
ios_sdk_missing_in_ci() {
    IOS_SDK="$WORK/no-such-ios.sdk.tar.xz" CI=true ios_sdk_present
}

ios_sdk_missing_elsewhere_is_skipped() {
    local output
    output=$(IOS_SDK="$WORK/no-such-ios.sdk.tar.xz" CI= ios_sdk_present)
    local rc=$?
    echo "$output"
    [ "$rc" = 2 ] && grep -q 'SKIP.*skipped' <<<"$output"
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

    self_test_ios_compile
}

# The iOS compile must fail on a member AVFoundation does not have and on an API newer than iOS 15,
# each in a file of its own added to a clean copy of the app; and on a missing SDK in CI.
self_test_ios_compile() {
    check_fails "missing iOS SDK in CI" "FAIL.*no iOS SDK at" ios_sdk_missing_in_ci
    check "self-test: missing iOS SDK outside CI is a skip" ios_sdk_missing_elsewhere_is_skipped
    ios_sdk_present >/dev/null 2>&1
    case $? in
        1) echo "ci_swift: [FAIL] self-test: iOS compile: no iOS SDK at $IOS_SDK" >&2; FAILED+=("self-test: iOS compile (no SDK)"); return ;;
        2) echo "ci_swift: [SKIP] self-test: iOS compile: no iOS SDK at $IOS_SDK"; SKIPPED=" (iOS compile skipped: no SDK)"; return ;;
    esac
    local log
    log=$(mktemp)
    if ! ios_sdk_prepare >"$log" 2>&1; then
        echo "ci_swift: [FAIL] self-test: iOS compile: the SDK could not be prepared:" >&2
        sed 's/^/    /' "$log" >&2
        FAILED+=("self-test: iOS compile (SDK setup)")
        rm -f "$log"
        return
    fi
    rm -f "$log"

    local clean="$WORK/ios-clean"
    rm -rf "$clean"
    mkdir -p "$clean"
    cp -r "$APP_DIR" "$clean/ios_app"

    printf 'import AVFoundation\n\nfunc deliberatelyBroken(_ session: AVCaptureSession) {\n    session.deliberatelyMissingMember()\n}\n' \
        >"$clean/ios_app/StyleCam/DeliberatelyBroken.swift"
    stage_app selftest-ios-api "$clean/ios_app"
    check_fails "iOS compile, a member AVFoundation lacks" \
        "DeliberatelyBroken.swift:[0-9]+:[0-9]+: error: value of type 'AVCaptureSession' has no member 'deliberatelyMissingMember'" \
        ios_compile selftest-ios-api

    printf 'import CoreML\n\nfunc deliberatelyTooNew(_ options: MLPredictionOptions) {\n    options.outputBackings = [:]\n}\n' \
        >"$clean/ios_app/StyleCam/DeliberatelyBroken.swift"
    stage_app selftest-ios-availability "$clean/ios_app"
    check_fails "iOS compile, an API newer than iOS 15" \
        "DeliberatelyBroken.swift:[0-9]+:[0-9]+: error: 'outputBackings' is only available in iOS 16.0 or newer" \
        ios_compile selftest-ios-availability
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
    ios_compile_stage
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
echo "ci_swift: SUMMARY: all ${#PASSED[@]} checks passed$SKIPPED ($ELAPSED s)"
