// What a trainable parameter is, for the modules that own parameters (src/nn) and the optimisers
// that update them (src/optim), which know nothing of each other.

/** What a parameter is, for optimiser policies (weight decay applies to 'weight' by default). */
export type ParamKind = 'weight' | 'bias' | 'norm' | 'embedding';

export type Init = { kind: 'normal'; std: number } | { kind: 'zeros' } | { kind: 'ones' };

export interface ParamInfo { kind: ParamKind; init: Init }
