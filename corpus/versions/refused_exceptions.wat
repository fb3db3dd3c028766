;; Exception handling: on by default in wasmtime 50, not in 46; off in the
;; deterministic engine on every major, so both refuse this.
(module
  (tag $e)
  (memory (export "memory") 1)
  (func (export "_start")
    (block $caught
      (try_table (catch $e $caught)
        (throw $e)))))
