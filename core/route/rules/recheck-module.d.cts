import type * as Recheck from 'recheck'

/** recheck, required on the first call. */
export declare function recheckModule(): typeof Recheck
