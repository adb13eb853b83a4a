/**
 * @file The epilogue activations' codes: the matmul and conv2d kernels' uniform `act` and
 * bias_act.wgsl's override `ACT`, read by act_by_code (src/kernels/include/activations.wgsl).
 */
export const ACT_CODE = { none: 0, relu: 1, gelu: 2, tanh: 3 } as const;
