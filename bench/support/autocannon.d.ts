// autocannon ships no types; only what the benchmarks use.
declare module 'autocannon' {
  interface Histogram { average: number; p50: number; p99: number; total: number }
  interface Result { requests: Histogram; latency: Histogram; errors: number; timeouts: number; non2xx: number }
  function autocannon(opts: Record<string, unknown>): Promise<Result>
  export default autocannon
}
