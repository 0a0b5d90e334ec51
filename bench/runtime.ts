/**
 * The runtime every Effect client of the benchmark runs its calls on, as an application would: one
 * `ManagedRuntime.make(layer)`, and `runtime.runPromise` per call. As the README's Performance section
 * advises for a server that does not read Effect's own fiber metrics, runtime metrics are off (Effect 3
 * counts every fiber's start, end and lifetime by default, a few µs per `runPromise`);
 * `BENCH_RUNTIME_METRICS=on` keeps Effect's default.
 */
import { Layer, ManagedRuntime, RuntimeFlags } from "effect"

export const applicationRuntime = <A, E>(layer: Layer.Layer<A, E>) =>
  ManagedRuntime.make(
    process.env.BENCH_RUNTIME_METRICS === "on" ? layer : Layer.merge(layer, RuntimeFlags.disableRuntimeMetrics)
  )
