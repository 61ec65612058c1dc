#include <metal_stdlib>
using namespace metal;

// One corner of the quad, laid out as StyleCamCore's QuadVertex: clip-space position, texture coordinate.
struct QuadVertex {
    float2 position;
    float2 textureCoordinate;
};

struct RasterizerData {
    float4 position [[position]];
    float2 textureCoordinate;
};

vertex RasterizerData passthroughVertex(uint vertexID [[vertex_id]],
                                        constant QuadVertex *vertices [[buffer(0)]]) {
    RasterizerData out;
    out.position = float4(vertices[vertexID].position, 0.0, 1.0);
    out.textureCoordinate = vertices[vertexID].textureCoordinate;
    return out;
}

fragment float4 passthroughFragment(RasterizerData in [[stage_in]],
                                    texture2d<float> frame [[texture(0)]]) {
    constexpr sampler linearSampler(mag_filter::linear, min_filter::linear, address::clamp_to_edge);
    return frame.sample(linearSampler, in.textureCoordinate);
}
