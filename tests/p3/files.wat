;; A WASI 0.3 command that uses the filesystem through streams and futures.
;; The preopen "/" holds `in.txt` ("hello from the tree") and a directory
;; `d`. Every stream or future operation that is BLOCKED is counted, and the
;; guest waits for its event. When every answer is the expected one it exits
;; with 100 + that count, else with the number of the first check that
;; failed:
;;  1. get-directories gives one preopen;
;;  2. open-at creates `out.txt` (read, write, create, truncate);
;;  3-6. write-via-stream: two stream writes complete with 6 and 4 bytes,
;;     and the future is ok once the stream is dropped;
;;  7. open-at opens `in.txt` for reading;
;;  8-13. read-via-stream from offset 6: a 3-byte read gets 3 bytes, a
;;     100-byte read gets the 10 left, the next read finds the stream
;;     dropped (the end of the file), the future is ok, and the bytes are
;;     "from the tree";
;;  14-17. read-directory, one entry per read: `d` (directory), `in.txt`
;;     and `out.txt` (regular files) in any order (stock lists in the
;;     host's), then the end, and an ok future.
(component
  (import "wasi:filesystem/types@0.3.0" (instance $types
    (type $error (variant
      (case "access") (case "already") (case "bad-descriptor") (case "busy")
      (case "deadlock") (case "quota") (case "exist") (case "file-too-large")
      (case "illegal-byte-sequence") (case "in-progress") (case "interrupted")
      (case "invalid") (case "io") (case "is-directory") (case "loop")
      (case "too-many-links") (case "message-size") (case "name-too-long")
      (case "no-device") (case "no-entry") (case "no-lock")
      (case "insufficient-memory") (case "insufficient-space")
      (case "not-directory") (case "not-empty") (case "not-recoverable")
      (case "unsupported") (case "no-tty") (case "no-such-device")
      (case "overflow") (case "not-permitted") (case "pipe") (case "read-only")
      (case "invalid-seek") (case "text-file-busy") (case "cross-device")
      (case "other" (option string))))
    (export "error-code" (type $e (eq $error)))
    (type $dtype (variant
      (case "block-device") (case "character-device") (case "directory")
      (case "fifo") (case "symbolic-link") (case "regular-file") (case "socket")
      (case "other" (option string))))
    (export "descriptor-type" (type $t (eq $dtype)))
    (type $entry (record (field "type" $t) (field "name" string)))
    (export "directory-entry" (type $de (eq $entry)))
    (type $pflags (flags "symlink-follow"))
    (export "path-flags" (type $pf (eq $pflags)))
    (type $oflags (flags "create" "directory" "exclusive" "truncate"))
    (export "open-flags" (type $of (eq $oflags)))
    (type $dflags (flags "read" "write" "file-integrity-sync" "data-integrity-sync"
      "requested-write-sync" "mutate-directory"))
    (export "descriptor-flags" (type $df (eq $dflags)))
    (export "descriptor" (type $d (sub resource)))
    (export "[method]descriptor.open-at" (func async
      (param "self" (borrow $d)) (param "path-flags" $pf) (param "path" string)
      (param "open-flags" $of) (param "flags" $df)
      (result (result (own $d) (error $e)))))
    (export "[method]descriptor.write-via-stream" (func
      (param "self" (borrow $d)) (param "data" (stream u8)) (param "offset" u64)
      (result (future (result (error $e))))))
    (export "[method]descriptor.read-via-stream" (func
      (param "self" (borrow $d)) (param "offset" u64)
      (result (tuple (stream u8) (future (result (error $e)))))))
    (export "[method]descriptor.read-directory" (func
      (param "self" (borrow $d))
      (result (tuple (stream $de) (future (result (error $e)))))))))
  (alias export $types "descriptor" (type $descriptor))
  (alias export $types "error-code" (type $error-code))
  (alias export $types "directory-entry" (type $directory-entry))
  (import "wasi:filesystem/preopens@0.3.0" (instance $preopens
    (export "descriptor" (type $d (eq $descriptor)))
    (export "get-directories" (func (result (list (tuple (own $d) string)))))))
  (import "wasi:cli/exit@0.3.0" (instance $exit
    (export "exit-with-code" (func (param "status-code" u8)))))
  (alias export $types "[method]descriptor.open-at" (func $open-at))
  (alias export $types "[method]descriptor.write-via-stream" (func $write-via-stream))
  (alias export $types "[method]descriptor.read-via-stream" (func $read-via-stream))
  (alias export $types "[method]descriptor.read-directory" (func $read-directory))
  (alias export $preopens "get-directories" (func $get-directories))
  (alias export $exit "exit-with-code" (func $exit-with-code))
  (type $bytes (stream u8))
  (type $entries (stream $directory-entry))
  (type $done (future (result (error $error-code))))

  (core module $libc
    (memory (export "memory") 1)
    (global $next (mut i32) (i32.const 4096))
    (func (export "realloc") (param i32 i32 i32 i32) (result i32)
      (local $at i32)
      (local.set $at (global.get $next))
      (global.set $next (i32.add (global.get $next) (i32.add (local.get 3) (i32.const 8))))
      (local.get $at))
    (data (i32.const 200) "out.txt")
    (data (i32.const 210) "in.txt")
    (data (i32.const 220) "from the tree")
    (data (i32.const 300) "hello 0.3\n"))
  (core instance $libc (instantiate $libc))
  (core func $get-directories (canon lower (func $get-directories)
    (memory (core memory $libc "memory")) (realloc (core func $libc "realloc"))))
  (core func $open-at (canon lower (func $open-at)
    (memory (core memory $libc "memory")) (realloc (core func $libc "realloc"))))
  (core func $write-via-stream (canon lower (func $write-via-stream)))
  (core func $read-via-stream (canon lower (func $read-via-stream)
    (memory (core memory $libc "memory"))))
  (core func $read-directory (canon lower (func $read-directory)
    (memory (core memory $libc "memory"))))
  (core func $exit-with-code (canon lower (func $exit-with-code)))
  (core func $stream.new (canon stream.new $bytes))
  (core func $stream.write (canon stream.write $bytes async (memory (core memory $libc "memory"))))
  (core func $stream.read (canon stream.read $bytes async (memory (core memory $libc "memory"))))
  (core func $stream.drop-writable (canon stream.drop-writable $bytes))
  (core func $stream.drop-readable (canon stream.drop-readable $bytes))
  (core func $entries.read (canon stream.read $entries async
    (memory (core memory $libc "memory")) (realloc (core func $libc "realloc"))))
  (core func $entries.drop-readable (canon stream.drop-readable $entries))
  (core func $future.read (canon future.read $done async
    (memory (core memory $libc "memory")) (realloc (core func $libc "realloc"))))
  (core func $future.drop-readable (canon future.drop-readable $done))
  (core func $waitable-set.new (canon waitable-set.new))
  (core func $waitable-set.wait (canon waitable-set.wait (memory (core memory $libc "memory"))))
  (core func $waitable-set.drop (canon waitable-set.drop))
  (core func $waitable.join (canon waitable.join))

  (core module $m
    (import "libc" "memory" (memory 1))
    (import "" "get-directories" (func $get-directories (param i32)))
    (import "" "open-at" (func $open-at (param i32 i32 i32 i32 i32 i32 i32)))
    (import "" "write-via-stream" (func $write-via-stream (param i32 i32 i64) (result i32)))
    (import "" "read-via-stream" (func $read-via-stream (param i32 i64 i32)))
    (import "" "read-directory" (func $read-directory (param i32 i32)))
    (import "" "exit" (func $exit (param i32)))
    (import "" "stream.new" (func $stream.new (result i64)))
    (import "" "stream.write" (func $stream.write (param i32 i32 i32) (result i32)))
    (import "" "stream.read" (func $stream.read (param i32 i32 i32) (result i32)))
    (import "" "stream.drop-writable" (func $stream.drop-writable (param i32)))
    (import "" "stream.drop-readable" (func $stream.drop-readable (param i32)))
    (import "" "entries.read" (func $entries.read (param i32 i32 i32) (result i32)))
    (import "" "entries.drop-readable" (func $entries.drop-readable (param i32)))
    (import "" "future.read" (func $future.read (param i32 i32) (result i32)))
    (import "" "future.drop-readable" (func $future.drop-readable (param i32)))
    (import "" "waitable-set.new" (func $waitable-set.new (result i32)))
    (import "" "waitable-set.wait" (func $waitable-set.wait (param i32 i32) (result i32)))
    (import "" "waitable-set.drop" (func $waitable-set.drop (param i32)))
    (import "" "waitable.join" (func $waitable.join (param i32 i32)))

    ;; How many operations were BLOCKED and completed by an event.
    (global $blocked (mut i32) (i32.const 0))

    ;; Exits with `step` unless `ok`.
    (func $check (param $ok i32) (param $step i32)
      (if (i32.eqz (local.get $ok))
        (then (call $exit (local.get $step)) unreachable)))

    ;; open-at under `dir` with no path flags; the new descriptor, or exit `step`.
    (func $open (param $dir i32) (param $path i32) (param $len i32)
        (param $oflags i32) (param $flags i32) (param $step i32) (result i32)
      (call $open-at (local.get $dir) (i32.const 0) (local.get $path) (local.get $len)
        (local.get $oflags) (local.get $flags) (i32.const 32))
      (call $check (i32.eqz (i32.load8_u (i32.const 32))) (local.get $step))
      (i32.load (i32.const 36)))

    ;; A stream or future operation's status; if it was BLOCKED (-1), waits
    ;; for its event and gives the status the event carries.
    (func $settle (param $waitable i32) (param $status i32) (result i32)
      (local $set i32)
      (if (i32.eq (local.get $status) (i32.const -1))
        (then
          (global.set $blocked (i32.add (global.get $blocked) (i32.const 1)))
          (local.set $set (call $waitable-set.new))
          (call $waitable.join (local.get $waitable) (local.get $set))
          ;; the event's waitable and payload (the status) at 88
          (drop (call $waitable-set.wait (local.get $set) (i32.const 88)))
          (local.set $status (i32.load (i32.const 92)))
          (call $waitable.join (local.get $waitable) (i32.const 0))
          (call $waitable-set.drop (local.get $set))))
      (local.get $status))

    ;; Reads a `result<_, error-code>` future: it must complete with ok.
    (func $expect-ok (param $future i32) (param $step i32)
      (call $check
        (i32.eqz (i32.and
          (call $settle (local.get $future) (call $future.read (local.get $future) (i32.const 80)))
          (i32.const 0xf)))
        (local.get $step))
      (call $check (i32.eqz (i32.load8_u (i32.const 80))) (local.get $step))
      (call $future.drop-readable (local.get $future)))

    (func (export "run") (result i32)
      (local $root i32) (local $out i32) (local $in i32) (local $pair i64)
      (local $writer i32) (local $stream i32) (local $future i32)
      (local $status i32) (local $count i32) (local $types i32) (local $names i32)
      (call $get-directories (i32.const 16))
      (call $check (i32.eq (i32.load (i32.const 20)) (i32.const 1)) (i32.const 1))
      (local.set $root (i32.load (i32.load (i32.const 16))))

      ;; create|truncate (9), read|write (3)
      (local.set $out (call $open (local.get $root) (i32.const 200) (i32.const 7)
        (i32.const 9) (i32.const 3) (i32.const 2)))
      (local.set $pair (call $stream.new))
      (local.set $writer (i32.wrap_i64 (i64.shr_u (local.get $pair) (i64.const 32))))
      (local.set $future (call $write-via-stream (local.get $out)
        (i32.wrap_i64 (local.get $pair)) (i64.const 0)))
      ;; COMPLETED with 6 and 4 bytes
      (call $check (i32.eq (call $settle (local.get $writer)
        (call $stream.write (local.get $writer) (i32.const 300) (i32.const 6)))
        (i32.const 96)) (i32.const 3))
      (call $check (i32.eq (call $settle (local.get $writer)
        (call $stream.write (local.get $writer) (i32.const 306) (i32.const 4)))
        (i32.const 64)) (i32.const 4))
      (call $stream.drop-writable (local.get $writer))
      (call $expect-ok (local.get $future) (i32.const 5))

      ;; read (1)
      (local.set $in (call $open (local.get $root) (i32.const 210) (i32.const 6)
        (i32.const 0) (i32.const 1) (i32.const 7)))
      (call $read-via-stream (local.get $in) (i64.const 6) (i32.const 64))
      (local.set $stream (i32.load (i32.const 64)))
      (local.set $future (i32.load (i32.const 68)))
      (call $check (i32.eq (call $settle (local.get $stream)
        (call $stream.read (local.get $stream) (i32.const 400) (i32.const 3)))
        (i32.const 48)) (i32.const 8))
      (call $check (i32.eq (call $settle (local.get $stream)
        (call $stream.read (local.get $stream) (i32.const 403) (i32.const 100)))
        (i32.const 160)) (i32.const 9))
      ;; DROPPED, nothing read
      (call $check (i32.eq (call $settle (local.get $stream)
        (call $stream.read (local.get $stream) (i32.const 503) (i32.const 100)))
        (i32.const 1)) (i32.const 10))
      (call $stream.drop-readable (local.get $stream))
      (call $expect-ok (local.get $future) (i32.const 11))
      (call $check (i64.eq (i64.load (i32.const 400)) (i64.load (i32.const 220))) (i32.const 12))
      (call $check (i32.eq (i32.load (i32.const 408)) (i32.load (i32.const 228))) (i32.const 12))
      (call $check (i32.eq (i32.load8_u (i32.const 412)) (i32.load8_u (i32.const 232))) (i32.const 13))

      ;; The listing, one entry (24 bytes: type at 0, name at 16) per read.
      (call $read-directory (local.get $root) (i32.const 64))
      (local.set $stream (i32.load (i32.const 64)))
      (local.set $future (i32.load (i32.const 68)))
      (block $end
        (loop $next
          (local.set $status (call $settle (local.get $stream)
            (call $entries.read (local.get $stream) (i32.const 600) (i32.const 1))))
          (br_if $end (i32.eq (local.get $status) (i32.const 1)))
          (call $check (i32.eq (local.get $status) (i32.const 16)) (i32.const 14))
          (local.set $count (i32.add (local.get $count) (i32.const 1)))
          (local.set $types (i32.add (local.get $types) (i32.load8_u (i32.const 600))))
          (local.set $names (i32.add (local.get $names) (i32.load (i32.const 620))))
          (br $next)))
      (call $entries.drop-readable (local.get $stream))
      ;; As a set (stock lists in the host's order): a directory (2) and two
      ;; regular files (5); names of 1, 6 and 7 bytes
      (call $check (i32.eq (local.get $count) (i32.const 3)) (i32.const 15))
      (call $check (i32.eq (local.get $types) (i32.const 12)) (i32.const 16))
      (call $check (i32.eq (local.get $names) (i32.const 14)) (i32.const 16))
      (call $expect-ok (local.get $future) (i32.const 17))
      (call $exit (i32.add (i32.const 100) (global.get $blocked)))
      unreachable)
    (func (export "cb") (param i32 i32 i32) (result i32) unreachable))
  (core instance $i (instantiate $m
    (with "libc" (instance $libc))
    (with "" (instance
      (export "get-directories" (func $get-directories))
      (export "open-at" (func $open-at))
      (export "write-via-stream" (func $write-via-stream))
      (export "read-via-stream" (func $read-via-stream))
      (export "read-directory" (func $read-directory))
      (export "exit" (func $exit-with-code))
      (export "stream.new" (func $stream.new))
      (export "stream.write" (func $stream.write))
      (export "stream.read" (func $stream.read))
      (export "stream.drop-writable" (func $stream.drop-writable))
      (export "stream.drop-readable" (func $stream.drop-readable))
      (export "entries.read" (func $entries.read))
      (export "entries.drop-readable" (func $entries.drop-readable))
      (export "future.read" (func $future.read))
      (export "future.drop-readable" (func $future.drop-readable))
      (export "waitable-set.new" (func $waitable-set.new))
      (export "waitable-set.wait" (func $waitable-set.wait))
      (export "waitable-set.drop" (func $waitable-set.drop))
      (export "waitable.join" (func $waitable.join))))))
  (func $run async (result (result))
    (canon lift (core func $i "run") async (callback (core func $i "cb"))))
  (instance $run (export "run" (func $run)))
  (export "wasi:cli/run@0.3.0" (instance $run)))
