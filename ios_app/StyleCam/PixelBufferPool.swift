import CoreVideo

/// IOSurface-backed, Metal-compatible pixel buffers of one size, recycled by Core Video.
final class PixelBufferPool: @unchecked Sendable {
    let width: Int
    let height: Int
    private let pool: CVPixelBufferPool

    init(width: Int, height: Int, pixelFormat: OSType) throws {
        let attributes: [String: Any] = [
            kCVPixelBufferPixelFormatTypeKey as String: pixelFormat,
            kCVPixelBufferWidthKey as String: width,
            kCVPixelBufferHeightKey as String: height,
            kCVPixelBufferIOSurfacePropertiesKey as String: [String: Any](),
            kCVPixelBufferMetalCompatibilityKey as String: true,
        ]
        var pool: CVPixelBufferPool?
        let status = CVPixelBufferPoolCreate(kCFAllocatorDefault, nil, attributes as CFDictionary, &pool)
        guard status == kCVReturnSuccess, let pool else { throw PixelBufferPoolError.creationFailed(status) }
        self.width = width
        self.height = height
        self.pool = pool
    }

    func makeBuffer() throws -> CVPixelBuffer {
        var buffer: CVPixelBuffer?
        let status = CVPixelBufferPoolCreatePixelBuffer(kCFAllocatorDefault, pool, &buffer)
        guard status == kCVReturnSuccess, let buffer else { throw PixelBufferPoolError.creationFailed(status) }
        return buffer
    }

    /// Copies `source` (same size, 4 bytes a pixel) row by row into a pool buffer.
    func copy(_ source: CVPixelBuffer) throws -> CVPixelBuffer {
        guard CVPixelBufferGetWidth(source) == width, CVPixelBufferGetHeight(source) == height else {
            throw PixelBufferPoolError.sizeMismatch
        }
        let target = try makeBuffer()
        CVPixelBufferLockBaseAddress(source, .readOnly)
        CVPixelBufferLockBaseAddress(target, [])
        defer {
            CVPixelBufferUnlockBaseAddress(target, [])
            CVPixelBufferUnlockBaseAddress(source, .readOnly)
        }
        guard let sourceBase = CVPixelBufferGetBaseAddress(source), let targetBase = CVPixelBufferGetBaseAddress(target) else {
            throw PixelBufferPoolError.noMemory
        }
        let sourceStride = CVPixelBufferGetBytesPerRow(source)
        let targetStride = CVPixelBufferGetBytesPerRow(target)
        let rowBytes = min(width * 4, sourceStride, targetStride)
        for row in 0..<height {
            memcpy(targetBase + row * targetStride, sourceBase + row * sourceStride, rowBytes)
        }
        return target
    }
}

enum PixelBufferPoolError: Error {
    case creationFailed(CVReturn)
    case sizeMismatch
    case noMemory
}
