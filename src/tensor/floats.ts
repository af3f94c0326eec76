/** The element arrays of the library: float32 for inference and training, float64 for checks. */
export type Floats = Float32Array | Float64Array;
