import XCTest
@testable import StyleCamCore

final class GeometryTests: XCTestCase {
    func testCenterCropOfA4By3FrameRemovesTopAndBottom() {
        let crop = FrameGeometry.centerCrop(of: CGSize(width: 1920, height: 1440), aspect: 16.0 / 9)
        XCTAssertEqual(crop, CGRect(x: 0, y: 180, width: 1920, height: 1080))
    }

    func testCenterCropOfAWideFrameRemovesSides() {
        let crop = FrameGeometry.centerCrop(of: CGSize(width: 2400, height: 1080), aspect: 16.0 / 9)
        XCTAssertEqual(crop, CGRect(x: 240, y: 0, width: 1920, height: 1080))
    }

    func testCenterCropOfA16By9FrameIsTheWholeFrame() {
        let size = CGSize(width: 1920, height: 1080)
        XCTAssertEqual(FrameGeometry.centerCrop(of: size, aspect: 16.0 / 9), CGRect(origin: .zero, size: size))
    }

    func testCameraFrameIsScaledWholeToTheModelInput() {
        let scaling = InputScaling(frame: CGSize(width: 1920, height: 1080), aspect: 1920.0 / 1080, target: CGSize(width: 853, height: 480))
        XCTAssertEqual(scaling.crop, CGRect(x: 0, y: 0, width: 1920, height: 1080))
        XCTAssertEqual(scaling.scaleX, 853.0 / 1920, accuracy: 1e-12)
        XCTAssertEqual(scaling.scaleY, 480.0 / 1080, accuracy: 1e-12)
        XCTAssertEqual(scaling.crop.width * scaling.scaleX, 853, accuracy: 1e-9)
        XCTAssertEqual(scaling.crop.height * scaling.scaleY, 480, accuracy: 1e-9)
    }

    func testA4By3FrameIsCroppedThenScaledToFill() {
        let scaling = InputScaling(frame: CGSize(width: 1920, height: 1440), aspect: 16.0 / 9, target: CGSize(width: 853, height: 480))
        XCTAssertEqual(scaling.crop, CGRect(x: 0, y: 180, width: 1920, height: 1080))
        XCTAssertEqual(scaling.crop.maxY + scaling.crop.minY, 1440, "the crop is centred, so it is the same from the top or the bottom")
        XCTAssertEqual(scaling.crop.height * scaling.scaleY, 480, accuracy: 1e-9)
    }

    func testEmptyFrameScalesToNothing() {
        let scaling = InputScaling(frame: .zero, aspect: 16.0 / 9, target: CGSize(width: 853, height: 480))
        XCTAssertEqual(scaling.crop, .zero)
        XCTAssertEqual([scaling.scaleX, scaling.scaleY], [0, 0])
    }

    func testAspectFitLetterboxesAndPillarboxes() {
        let frame = CGSize(width: 1920, height: 1080)
        XCTAssertEqual(
            FrameGeometry.aspectFit(frame, in: CGSize(width: 1170, height: 2532)),
            CGRect(x: 0, y: (2532 - 658.125) / 2, width: 1170, height: 658.125)
        )
        let pillarbox = FrameGeometry.aspectFit(frame, in: CGSize(width: 2796, height: 1290))
        XCTAssertEqual(pillarbox.height, 1290)
        XCTAssertEqual(pillarbox.width, 1290 * 16 / 9, accuracy: 1e-9)
        XCTAssertEqual(pillarbox.midX, 1398, accuracy: 1e-9)
        XCTAssertEqual(pillarbox.minY, 0)
        XCTAssertEqual(FrameGeometry.aspectFit(frame, in: .zero), .zero)
    }

    func testBackCameraRotations() {
        XCTAssertEqual(DisplayRotation.forBackCamera(in: .landscapeRight), .none)
        XCTAssertEqual(DisplayRotation.forBackCamera(in: .portrait), .clockwise90)
        XCTAssertEqual(DisplayRotation.forBackCamera(in: .landscapeLeft), .clockwise180)
        XCTAssertEqual(DisplayRotation.forBackCamera(in: .portraitUpsideDown), .clockwise270)
        XCTAssertEqual(DisplayRotation.clockwise90.rotated(CGSize(width: 16, height: 9)), CGSize(width: 9, height: 16))
    }

    func testUnrotatedQuadFillsAMatchingDrawable() {
        let quad = DisplayQuad.vertices(frame: CGSize(width: 1920, height: 1080), drawable: CGSize(width: 1920, height: 1080), rotation: .none)
        XCTAssertEqual(quad, [
            QuadVertex(x: -1, y: -1, u: 0, v: 1),
            QuadVertex(x: 1, y: -1, u: 1, v: 1),
            QuadVertex(x: -1, y: 1, u: 0, v: 0),
            QuadVertex(x: 1, y: 1, u: 1, v: 0),
        ])
    }

    func testPortraitQuadIsRotatedClockwiseAndLetterboxed() {
        let quad = DisplayQuad.vertices(frame: CGSize(width: 1920, height: 1080), drawable: CGSize(width: 1080, height: 3840), rotation: .clockwise90)
        XCTAssertEqual(quad.count, 4)
        XCTAssertEqual(quad[0].x, -1)
        XCTAssertEqual(quad[3].x, 1)
        XCTAssertEqual(quad[0].y, -0.5, accuracy: 1e-6)
        XCTAssertEqual(quad[3].y, 0.5, accuracy: 1e-6)
        XCTAssertEqual([quad[2].u, quad[2].v], [0, 1], "screen top-left shows the frame's bottom-left")
        XCTAssertEqual([quad[3].u, quad[3].v], [0, 0], "screen top-right shows the frame's top-left")
        XCTAssertEqual([quad[1].u, quad[1].v], [1, 0], "screen bottom-right shows the frame's top-right")
        XCTAssertEqual([quad[0].u, quad[0].v], [1, 1], "screen bottom-left shows the frame's bottom-right")
    }

    func testUpsideDownQuadSwapsOppositeCorners() {
        let quad = DisplayQuad.vertices(frame: CGSize(width: 16, height: 9), drawable: CGSize(width: 16, height: 9), rotation: .clockwise180)
        XCTAssertEqual([quad[2].u, quad[2].v], [1, 1])
        XCTAssertEqual([quad[1].u, quad[1].v], [0, 0])
    }

    func testEmptyDrawableGivesNoQuad() {
        XCTAssertTrue(DisplayQuad.vertices(frame: CGSize(width: 16, height: 9), drawable: .zero, rotation: .none).isEmpty)
    }
}
