;; The `p3_fs` interpreter: one fixed WASI 0.3 command that reads a binary
;; script from stdin and runs it against the first preopen through
;; `wasi:filesystem@0.3.0`, then writes a log of every answer to stdout and
;; exits 0. A script is a list of 6-byte operations (at most 64):
;;   opcode, a, b, c, d, e
;; `a` and `d` pick descriptors from a table (slot 0 is the preopen, each
;; successful open-at adds one, at most 16), `b` and `e` paths (the path
;; table below), `c` path flags, offsets or sizes (the offset table below),
;; `d` / `e` texts and lengths. The log has, per operation, its opcode and
;; its answer: `0` for ok or `1 + error-code case`, then the values. Stream
;; and future operations that are BLOCKED are waited for (their amounts
;; are logged, not whether they waited, so stock's background I/O and the
;; crate's at-once answers log alike where they agree).
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
    (type $instant (record (field "seconds" s64) (field "nanoseconds" u32)))
    (export "instant" (type $in (eq $instant)))
    (type $stat (record (field "type" $t) (field "link-count" u64) (field "size" u64)
      (field "data-access-timestamp" (option $in))
      (field "data-modification-timestamp" (option $in))
      (field "status-change-timestamp" (option $in))))
    (export "descriptor-stat" (type $st (eq $stat)))
    (type $nts (variant (case "no-change") (case "now") (case "timestamp" $in)))
    (export "new-timestamp" (type $nt (eq $nts)))
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
    (export "[method]descriptor.append-via-stream" (func
      (param "self" (borrow $d)) (param "data" (stream u8))
      (result (future (result (error $e))))))
    (export "[method]descriptor.read-via-stream" (func
      (param "self" (borrow $d)) (param "offset" u64)
      (result (tuple (stream u8) (future (result (error $e)))))))
    (export "[method]descriptor.read-directory" (func
      (param "self" (borrow $d))
      (result (tuple (stream $de) (future (result (error $e)))))))
    (export "[method]descriptor.stat" (func async
      (param "self" (borrow $d)) (result (result $st (error $e)))))
    (export "[method]descriptor.stat-at" (func async
      (param "self" (borrow $d)) (param "path-flags" $pf) (param "path" string)
      (result (result $st (error $e)))))
    (export "[method]descriptor.create-directory-at" (func async
      (param "self" (borrow $d)) (param "path" string) (result (result (error $e)))))
    (export "[method]descriptor.unlink-file-at" (func async
      (param "self" (borrow $d)) (param "path" string) (result (result (error $e)))))
    (export "[method]descriptor.remove-directory-at" (func async
      (param "self" (borrow $d)) (param "path" string) (result (result (error $e)))))
    (export "[method]descriptor.rename-at" (func async
      (param "self" (borrow $d)) (param "old-path" string)
      (param "new-descriptor" (borrow $d)) (param "new-path" string)
      (result (result (error $e)))))
    (export "[method]descriptor.symlink-at" (func async
      (param "self" (borrow $d)) (param "old-path" string) (param "new-path" string)
      (result (result (error $e)))))
    (export "[method]descriptor.readlink-at" (func async
      (param "self" (borrow $d)) (param "path" string) (result (result string (error $e)))))
    (export "[method]descriptor.set-size" (func async
      (param "self" (borrow $d)) (param "size" u64) (result (result (error $e)))))
    (export "[method]descriptor.get-type" (func async
      (param "self" (borrow $d)) (result (result $t (error $e)))))
    (export "[method]descriptor.get-flags" (func async
      (param "self" (borrow $d)) (result (result $df (error $e)))))
    (export "[method]descriptor.link-at" (func async
      (param "self" (borrow $d)) (param "old-path-flags" $pf) (param "old-path" string)
      (param "new-descriptor" (borrow $d)) (param "new-path" string)
      (result (result (error $e)))))
    (export "[method]descriptor.set-times-at" (func async
      (param "self" (borrow $d)) (param "path-flags" $pf) (param "path" string)
      (param "data-access-timestamp" $nt) (param "data-modification-timestamp" $nt)
      (result (result (error $e)))))
    (export "[method]descriptor.set-times" (func async
      (param "self" (borrow $d))
      (param "data-access-timestamp" $nt) (param "data-modification-timestamp" $nt)
      (result (result (error $e)))))))
  (alias export $types "descriptor" (type $descriptor))
  (alias export $types "error-code" (type $error-code))
  (alias export $types "directory-entry" (type $directory-entry))
  (import "wasi:filesystem/preopens@0.3.0" (instance $preopens
    (export "descriptor" (type $d (eq $descriptor)))
    (export "get-directories" (func (result (list (tuple (own $d) string)))))))
  (import "wasi:cli/types@0.3.0" (instance $cli-types
    (type $error (enum "io" "illegal-byte-sequence" "pipe"))
    (export "error-code" (type $e (eq $error)))))
  (alias export $cli-types "error-code" (type $cli-error))
  (import "wasi:cli/stdin@0.3.0" (instance $stdin
    (export "error-code" (type $e (eq $cli-error)))
    (export "read-via-stream" (func (result (tuple (stream u8) (future (result (error $e)))))))))
  (import "wasi:cli/stdout@0.3.0" (instance $stdout
    (export "error-code" (type $e (eq $cli-error)))
    (export "write-via-stream" (func (param "data" (stream u8)) (result (future (result (error $e))))))))
  (import "wasi:cli/exit@0.3.0" (instance $exit
    (export "exit-with-code" (func (param "status-code" u8)))))

  (type $bytes (stream u8))
  (type $entries (stream $directory-entry))
  (type $done (future (result (error $error-code))))
  (type $cli-done (future (result (error $cli-error))))

  (core module $libc
    (memory (export "memory") 4)
    (global $next (mut i32) (i32.const 0x10000))
    ;; A bump allocator: the interpreter runs at most 64 operations.
    (func (export "realloc") (param i32 i32 i32 i32) (result i32)
      (local $at i32)
      (local.set $at (i32.and (i32.add (global.get $next) (i32.const 7)) (i32.const -8)))
      (global.set $next (i32.add (local.get $at) (local.get 3)))
      (if (i32.gt_u (global.get $next) (i32.const 0x40000)) (then unreachable))
      (local.get $at))
    ;; Paths (ptr, len) at 0x200: a, b, c, a/b, b/c, ., .., a/, a/., b//c,
    ;; ../x, a/../b, (empty), /abs, c/a, then names of 255 and 256 bytes.
    (data (i32.const 0x400) "abca/bb/c...a/a/.b//c../xa/../b/absc/a")
    (data (i32.const 0x200)
      "\00\04\00\00\01\00\00\00" "\01\04\00\00\01\00\00\00" "\02\04\00\00\01\00\00\00"
      "\03\04\00\00\03\00\00\00" "\06\04\00\00\03\00\00\00" "\09\04\00\00\01\00\00\00"
      "\0a\04\00\00\02\00\00\00" "\0c\04\00\00\02\00\00\00" "\0e\04\00\00\03\00\00\00"
      "\11\04\00\00\04\00\00\00" "\15\04\00\00\04\00\00\00" "\19\04\00\00\06\00\00\00"
      "\1f\04\00\00\00\00\00\00" "\1f\04\00\00\04\00\00\00" "\23\04\00\00\03\00\00\00"
      "\00\10\00\00\ff\00\00\00" "\00\10\00\00\00\01\00\00")
    ;; Offsets and sizes (u64) at 0x300: 0, 1, 2, 5, 10, 20, 33, 63, 4096,
    ;; 2^63-1, 2^63, 2^64-1.
    (data (i32.const 0x300)
      "\00\00\00\00\00\00\00\00" "\01\00\00\00\00\00\00\00" "\02\00\00\00\00\00\00\00"
      "\05\00\00\00\00\00\00\00" "\0a\00\00\00\00\00\00\00" "\14\00\00\00\00\00\00\00"
      "\21\00\00\00\00\00\00\00" "\3f\00\00\00\00\00\00\00" "\00\10\00\00\00\00\00\00"
      "\ff\ff\ff\ff\ff\ff\ff\7f" "\00\00\00\00\00\00\00\80" "\ff\ff\ff\ff\ff\ff\ff\ff")
    ;; The usual open flags at 0x380 (see $open-flags).
    (data (i32.const 0x380) "\00\01\09\02\05\08\00\01")
    ;; Seconds of a new timestamp (s64) at 0x3a0: 0, 1, 1000, 10^9, 2^31-1,
    ;; 2^31, 2^32, 2^34 (the year 2514); never before 1970 or past 2^64 ns
    ;; (the year 2554), where the crate answers `overflow` (the tree keeps
    ;; u64 nanoseconds since 1970) and stock does not (46 panics before
    ;; 1970; tests/p3.rs runs that). Nanoseconds (u32) at 0x3e0: 0, 5,
    ;; 10^9-1, 10^9 (one past the last valid).
    (data (i32.const 0x3a0)
      "\00\00\00\00\00\00\00\00" "\01\00\00\00\00\00\00\00" "\e8\03\00\00\00\00\00\00"
      "\00\ca\9a\3b\00\00\00\00" "\ff\ff\ff\7f\00\00\00\00" "\00\00\00\80\00\00\00\00"
      "\00\00\00\00\01\00\00\00" "\00\00\00\00\04\00\00\00")
    (data (i32.const 0x3e0) "\00\00\00\00" "\05\00\00\00" "\ff\c9\9a\3b" "\00\ca\9a\3b")
    ;; The short texts' source: 64 bytes, twice.
    (data (i32.const 0x800) "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_"
      "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_"))
  (core instance $libc (instantiate $libc))

  (alias export $types "[method]descriptor.open-at" (func $open-at))
  (alias export $types "[method]descriptor.write-via-stream" (func $write-via-stream))
  (alias export $types "[method]descriptor.append-via-stream" (func $append-via-stream))
  (alias export $types "[method]descriptor.read-via-stream" (func $read-via-stream))
  (alias export $types "[method]descriptor.read-directory" (func $read-directory))
  (alias export $types "[method]descriptor.stat" (func $stat))
  (alias export $types "[method]descriptor.stat-at" (func $stat-at))
  (alias export $types "[method]descriptor.create-directory-at" (func $create-directory-at))
  (alias export $types "[method]descriptor.unlink-file-at" (func $unlink-file-at))
  (alias export $types "[method]descriptor.remove-directory-at" (func $remove-directory-at))
  (alias export $types "[method]descriptor.rename-at" (func $rename-at))
  (alias export $types "[method]descriptor.symlink-at" (func $symlink-at))
  (alias export $types "[method]descriptor.readlink-at" (func $readlink-at))
  (alias export $types "[method]descriptor.set-size" (func $set-size))
  (alias export $types "[method]descriptor.get-type" (func $get-type))
  (alias export $types "[method]descriptor.get-flags" (func $get-flags))
  (alias export $types "[method]descriptor.link-at" (func $link-at))
  (alias export $types "[method]descriptor.set-times-at" (func $set-times-at))
  (alias export $types "[method]descriptor.set-times" (func $set-times))
  (alias export $preopens "get-directories" (func $get-directories))
  (alias export $stdin "read-via-stream" (func $stdin))
  (alias export $stdout "write-via-stream" (func $stdout))
  (alias export $exit "exit-with-code" (func $exit-with-code))

  (core func $c-open-at (canon lower (func $open-at)
    (memory (core memory $libc "memory")) (realloc (core func $libc "realloc"))))
  (core func $c-write-via-stream (canon lower (func $write-via-stream)))
  (core func $c-append-via-stream (canon lower (func $append-via-stream)))
  (core func $c-read-via-stream (canon lower (func $read-via-stream)
    (memory (core memory $libc "memory"))))
  (core func $c-read-directory (canon lower (func $read-directory)
    (memory (core memory $libc "memory"))))
  (core func $c-stat (canon lower (func $stat)
    (memory (core memory $libc "memory")) (realloc (core func $libc "realloc"))))
  (core func $c-stat-at (canon lower (func $stat-at)
    (memory (core memory $libc "memory")) (realloc (core func $libc "realloc"))))
  (core func $c-create-directory-at (canon lower (func $create-directory-at)
    (memory (core memory $libc "memory")) (realloc (core func $libc "realloc"))))
  (core func $c-unlink-file-at (canon lower (func $unlink-file-at)
    (memory (core memory $libc "memory")) (realloc (core func $libc "realloc"))))
  (core func $c-remove-directory-at (canon lower (func $remove-directory-at)
    (memory (core memory $libc "memory")) (realloc (core func $libc "realloc"))))
  (core func $c-rename-at (canon lower (func $rename-at)
    (memory (core memory $libc "memory")) (realloc (core func $libc "realloc"))))
  (core func $c-symlink-at (canon lower (func $symlink-at)
    (memory (core memory $libc "memory")) (realloc (core func $libc "realloc"))))
  (core func $c-readlink-at (canon lower (func $readlink-at)
    (memory (core memory $libc "memory")) (realloc (core func $libc "realloc"))))
  (core func $c-set-size (canon lower (func $set-size)
    (memory (core memory $libc "memory")) (realloc (core func $libc "realloc"))))
  (core func $c-get-type (canon lower (func $get-type)
    (memory (core memory $libc "memory")) (realloc (core func $libc "realloc"))))
  (core func $c-get-flags (canon lower (func $get-flags)
    (memory (core memory $libc "memory")) (realloc (core func $libc "realloc"))))
  (core func $c-link-at (canon lower (func $link-at)
    (memory (core memory $libc "memory")) (realloc (core func $libc "realloc"))))
  (core func $c-set-times-at (canon lower (func $set-times-at)
    (memory (core memory $libc "memory")) (realloc (core func $libc "realloc"))))
  (core func $c-set-times (canon lower (func $set-times)
    (memory (core memory $libc "memory")) (realloc (core func $libc "realloc"))))
  (core func $c-get-directories (canon lower (func $get-directories)
    (memory (core memory $libc "memory")) (realloc (core func $libc "realloc"))))
  (core func $c-stdin (canon lower (func $stdin) (memory (core memory $libc "memory"))))
  (core func $c-stdout (canon lower (func $stdout)))
  (core func $c-exit (canon lower (func $exit-with-code)))
  (core func $c-stream.new (canon stream.new $bytes))
  (core func $c-stream.write (canon stream.write $bytes async (memory (core memory $libc "memory"))))
  (core func $c-stream.read (canon stream.read $bytes async (memory (core memory $libc "memory"))))
  (core func $c-stream.drop-writable (canon stream.drop-writable $bytes))
  (core func $c-stream.drop-readable (canon stream.drop-readable $bytes))
  (core func $c-entries.read (canon stream.read $entries async
    (memory (core memory $libc "memory")) (realloc (core func $libc "realloc"))))
  (core func $c-entries.drop-readable (canon stream.drop-readable $entries))
  (core func $c-future.read (canon future.read $done async
    (memory (core memory $libc "memory")) (realloc (core func $libc "realloc"))))
  (core func $c-future.drop-readable (canon future.drop-readable $done))
  (core func $c-cli-future.read (canon future.read $cli-done async
    (memory (core memory $libc "memory"))))
  (core func $c-cli-future.drop-readable (canon future.drop-readable $cli-done))
  (core func $c-waitable-set.new (canon waitable-set.new))
  (core func $c-waitable-set.wait (canon waitable-set.wait (memory (core memory $libc "memory"))))
  (core func $c-waitable-set.drop (canon waitable-set.drop))
  (core func $c-waitable.join (canon waitable.join))

  (core module $m
    (import "libc" "memory" (memory 4))
    (import "" "open-at" (func $open-at (param i32 i32 i32 i32 i32 i32 i32)))
    (import "" "write-via-stream" (func $write-via-stream (param i32 i32 i64) (result i32)))
    (import "" "append-via-stream" (func $append-via-stream (param i32 i32) (result i32)))
    (import "" "read-via-stream" (func $read-via-stream (param i32 i64 i32)))
    (import "" "read-directory" (func $read-directory (param i32 i32)))
    (import "" "stat" (func $stat (param i32 i32)))
    (import "" "stat-at" (func $stat-at (param i32 i32 i32 i32 i32)))
    (import "" "create-directory-at" (func $create-directory-at (param i32 i32 i32 i32)))
    (import "" "unlink-file-at" (func $unlink-file-at (param i32 i32 i32 i32)))
    (import "" "remove-directory-at" (func $remove-directory-at (param i32 i32 i32 i32)))
    (import "" "rename-at" (func $rename-at (param i32 i32 i32 i32 i32 i32 i32)))
    (import "" "symlink-at" (func $symlink-at (param i32 i32 i32 i32 i32 i32)))
    (import "" "readlink-at" (func $readlink-at (param i32 i32 i32 i32)))
    (import "" "set-size" (func $set-size (param i32 i64 i32)))
    (import "" "get-type" (func $get-type (param i32 i32)))
    (import "" "get-flags" (func $get-flags (param i32 i32)))
    (import "" "link-at" (func $link-at (param i32 i32 i32 i32 i32 i32 i32 i32)))
    (import "" "set-times-at" (func $set-times-at
      (param i32 i32 i32 i32 i32 i64 i32 i32 i64 i32 i32)))
    (import "" "set-times" (func $set-times (param i32 i32 i64 i32 i32 i64 i32 i32)))
    (import "" "get-directories" (func $get-directories (param i32)))
    (import "" "stdin" (func $stdin (param i32)))
    (import "" "stdout" (func $stdout (param i32) (result i32)))
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
    (import "" "cli-future.read" (func $cli-future.read (param i32 i32) (result i32)))
    (import "" "cli-future.drop-readable" (func $cli-future.drop-readable (param i32)))
    (import "" "waitable-set.new" (func $waitable-set.new (result i32)))
    (import "" "waitable-set.wait" (func $waitable-set.wait (param i32 i32) (result i32)))
    (import "" "waitable-set.drop" (func $waitable-set.drop (param i32)))
    (import "" "waitable.join" (func $waitable.join (param i32 i32)))

    ;; Memory: 0x00-0x100 return areas, 0x100 the descriptor table (16),
    ;; 0x200 paths, 0x300 offsets, 0x800 text, 0x1000 long names,
    ;; 0x2000 the script (8 KiB), 0x4000 the log (32 KiB), 0xc000 the long
    ;; text (5000 bytes), 0xe000 read buffers, 0x10000 the allocator's heap.
    (global $fds (mut i32) (i32.const 0))
    (global $log (mut i32) (i32.const 0x4000))

    (func $log8 (param $v i32)
      (i32.store8 (global.get $log) (local.get $v))
      (global.set $log (i32.add (global.get $log) (i32.const 1))))
    (func $log32 (param $v i32)
      (i32.store (global.get $log) (local.get $v))
      (global.set $log (i32.add (global.get $log) (i32.const 4))))
    (func $log64 (param $v i64)
      (i64.store (global.get $log) (local.get $v))
      (global.set $log (i32.add (global.get $log) (i32.const 8))))
    (func $log-bytes (param $at i32) (param $len i32)
      (memory.copy (global.get $log) (local.get $at) (local.get $len))
      (global.set $log (i32.add (global.get $log) (local.get $len))))

    ;; A stream or future operation's status; when BLOCKED (-1), waits for
    ;; its event and gives the status the event carries.
    (func $settle (param $waitable i32) (param $status i32) (result i32)
      (local $set i32)
      (if (i32.eq (local.get $status) (i32.const -1))
        (then
          (local.set $set (call $waitable-set.new))
          (call $waitable.join (local.get $waitable) (local.get $set))
          (drop (call $waitable-set.wait (local.get $set) (i32.const 0xf0)))
          (local.set $status (i32.load (i32.const 0xf4)))
          (call $waitable.join (local.get $waitable) (i32.const 0))
          (call $waitable-set.drop (local.get $set))))
      (local.get $status))

    ;; Logs a `result` at `at` whose error case sits at `at + payload`:
    ;; 0 for ok, 1 + the error's case otherwise. Returns whether it was ok.
    (func $result (param $at i32) (param $payload i32) (result i32)
      (if (result i32) (i32.eqz (i32.load8_u (local.get $at)))
        (then (call $log8 (i32.const 0)) (i32.const 1))
        (else
          (call $log8 (i32.add (i32.const 1)
            (i32.load8_u (i32.add (local.get $at) (local.get $payload)))))
          (i32.const 0))))

    ;; Reads a filesystem `result<_, error-code>` future, logs it, drops it.
    (func $outcome (param $future i32)
      (drop (call $settle (local.get $future)
        (call $future.read (local.get $future) (i32.const 0x40))))
      (drop (call $result (i32.const 0x40) (i32.const 4)))
      (call $future.drop-readable (local.get $future)))

    (func $fd (param $i i32) (result i32)
      (i32.load (i32.add (i32.const 0x100)
        (i32.shl (i32.rem_u (local.get $i) (global.get $fds)) (i32.const 2)))))
    (func $path (param $i i32) (result i32)
      (i32.load (i32.add (i32.const 0x200)
        (i32.shl (i32.rem_u (local.get $i) (i32.const 17)) (i32.const 3)))))
    (func $path-len (param $i i32) (result i32)
      (i32.load (i32.add (i32.const 0x204)
        (i32.shl (i32.rem_u (local.get $i) (i32.const 17)) (i32.const 3)))))
    (func $offset (param $i i32) (result i64)
      (i64.load (i32.add (i32.const 0x300)
        (i32.shl (i32.rem_u (local.get $i) (i32.const 12)) (i32.const 3)))))
    ;; A text: `d` < 0xf0 picks a start in the 128-byte text and `e` % 65 a
    ;; length; otherwise the 5000-byte text.
    (func $text (param $d i32) (result i32)
      (if (result i32) (i32.ge_u (local.get $d) (i32.const 0xf0))
        (then (i32.const 0xc000))
        (else (i32.add (i32.const 0x800) (i32.rem_u (local.get $d) (i32.const 64))))))
    (func $text-len (param $d i32) (param $e i32) (result i32)
      (select (i32.const 5000) (i32.rem_u (local.get $e) (i32.const 65))
        (i32.ge_u (local.get $d) (i32.const 0xf0))))

    ;; Open flags: for `d` below 0xc0 the usual ones (none, create,
    ;; create|truncate, directory, create|exclusive, truncate), else any.
    (func $open-flags (param $d i32) (result i32)
      (if (result i32) (i32.ge_u (local.get $d) (i32.const 0xc0))
        (then (i32.and (local.get $d) (i32.const 15)))
        (else (i32.load8_u (i32.add (i32.const 0x380) (i32.rem_u (local.get $d) (i32.const 8)))))))
    ;; Descriptor flags: for `e` below 0xe0 read, write and mutate-directory
    ;; only, else any (the sync flags are `unsupported` for open-at).
    (func $descriptor-flags (param $e i32) (result i32)
      (i32.and (local.get $e)
        (select (i32.const 63) (i32.const 0x23) (i32.ge_u (local.get $e) (i32.const 0xe0)))))

    ;; A new timestamp as the canonical ABI passes it (case, seconds,
    ;; nanoseconds) from the byte `t`: `t` % 4 picks no-change, now or (2,
    ;; 3) a timestamp whose seconds bits 2-4 and nanoseconds bits 5-6 pick.
    (func $time (param $t i32) (result i32 i64 i32)
      (if (result i32 i64 i32) (i32.lt_u (i32.rem_u (local.get $t) (i32.const 4)) (i32.const 2))
        (then (i32.rem_u (local.get $t) (i32.const 4)) (i64.const 0) (i32.const 0))
        (else
          (i32.const 2)
          (i64.load (i32.add (i32.const 0x3a0)
            (i32.shl (i32.and (i32.shr_u (local.get $t) (i32.const 2)) (i32.const 7)) (i32.const 3))))
          (i32.load (i32.add (i32.const 0x3e0)
            (i32.shl (i32.and (i32.shr_u (local.get $t) (i32.const 5)) (i32.const 3)) (i32.const 2)))))))

    ;; Writes `len` bytes at `at` to `writer` until all are taken or the
    ;; stream ends; the number taken.
    (func $write-all (param $writer i32) (param $at i32) (param $len i32) (result i32)
      (local $done i32) (local $status i32)
      (block $end
        (loop $more
          (br_if $end (i32.ge_u (local.get $done) (local.get $len)))
          (local.set $status (call $settle (local.get $writer)
            (call $stream.write (local.get $writer)
              (i32.add (local.get $at) (local.get $done))
              (i32.sub (local.get $len) (local.get $done)))))
          (local.set $done (i32.add (local.get $done) (i32.shr_u (local.get $status) (i32.const 4))))
          (br_if $more (i32.eqz (i32.and (local.get $status) (i32.const 0xf))))))
      (local.get $done))

    ;; A `descriptor-stat` result at 0x40 (payload at 8): ok, the type, and
    ;; for a regular file its size.
    (func $log-stat
      (if (call $result (i32.const 0x40) (i32.const 8))
        (then
          (call $log8 (i32.load8_u (i32.const 0x48)))
          (if (i32.eq (i32.load8_u (i32.const 0x48)) (i32.const 5))
            (then (call $log64 (i64.load (i32.const 0x60))))))))

    ;; write-via-stream (append when `$append`) of the text `d`, `e`.
    (func $op-write (param $a i32) (param $c i32) (param $d i32) (param $e i32) (param $append i32)
      (local $pair i64) (local $writer i32) (local $future i32)
      (local.set $pair (call $stream.new))
      (local.set $writer (i32.wrap_i64 (i64.shr_u (local.get $pair) (i64.const 32))))
      (local.set $future
        (if (result i32) (local.get $append)
          (then (call $append-via-stream (call $fd (local.get $a)) (i32.wrap_i64 (local.get $pair))))
          (else (call $write-via-stream (call $fd (local.get $a)) (i32.wrap_i64 (local.get $pair))
            (call $offset (local.get $c))))))
      (call $log32 (call $write-all (local.get $writer)
        (call $text (local.get $d)) (call $text-len (local.get $d) (local.get $e))))
      (call $stream.drop-writable (local.get $writer))
      (call $outcome (local.get $future)))

    ;; read-via-stream at offset `c`: one read of 1 + `e` bytes.
    (func $op-read (param $a i32) (param $c i32) (param $e i32)
      (local $stream i32) (local $future i32) (local $status i32)
      ;; read-via-stream traps on a directory (stock's too): skip those,
      ;; logging 0xff.
      (call $get-type (call $fd (local.get $a)) (i32.const 0x40))
      (if (i32.and (i32.eqz (i32.load8_u (i32.const 0x40)))
                   (i32.eq (i32.load8_u (i32.const 0x44)) (i32.const 2)))
        (then (call $log8 (i32.const 0xff)) (return)))
      (call $read-via-stream (call $fd (local.get $a)) (call $offset (local.get $c)) (i32.const 0x40))
      (local.set $stream (i32.load (i32.const 0x40)))
      (local.set $future (i32.load (i32.const 0x44)))
      (local.set $status (call $settle (local.get $stream)
        (call $stream.read (local.get $stream) (i32.const 0xe000) (i32.add (local.get $e) (i32.const 1)))))
      (call $log8 (i32.and (local.get $status) (i32.const 0xf)))
      (call $log32 (i32.shr_u (local.get $status) (i32.const 4)))
      (call $log-bytes (i32.const 0xe000) (i32.shr_u (local.get $status) (i32.const 4)))
      (call $stream.drop-readable (local.get $stream))
      (call $outcome (local.get $future)))

    ;; read-directory: every entry, one per read; the count, the sum of the
    ;; types and of the name lengths (a set's: stock lists in host order).
    (func $op-list (param $a i32)
      (local $stream i32) (local $future i32) (local $status i32)
      (local $count i32) (local $types i32) (local $names i32)
      (call $read-directory (call $fd (local.get $a)) (i32.const 0x40))
      (local.set $stream (i32.load (i32.const 0x40)))
      (local.set $future (i32.load (i32.const 0x44)))
      (block $end
        (loop $more
          (local.set $status (call $settle (local.get $stream)
            (call $entries.read (local.get $stream) (i32.const 0xe200) (i32.const 1))))
          (br_if $end (i32.ne (local.get $status) (i32.const 0x10)))
          (local.set $count (i32.add (local.get $count) (i32.const 1)))
          (local.set $types (i32.add (local.get $types) (i32.load8_u (i32.const 0xe200))))
          (local.set $names (i32.add (local.get $names) (i32.load (i32.const 0xe214))))
          (br_if $more (i32.lt_u (local.get $count) (i32.const 64)))))
      (call $log32 (local.get $count))
      (call $log32 (local.get $types))
      (call $log32 (local.get $names))
      (call $entries.drop-readable (local.get $stream))
      (call $outcome (local.get $future)))

    (func $op (param $op i32) (param $a i32) (param $b i32) (param $c i32) (param $d i32) (param $e i32)
      (call $log8 (local.get $op))
      (block $done
      (block $times (block $times-at
      (block $link (block $flags (block $type (block $size (block $readlink
      (block $symlink (block $rename (block $rmdir (block $unlink (block $mkdir
      (block $stat-at (block $stat (block $list (block $read (block $append
      (block $write (block $open
        (br_table $open $write $append $read $list $stat $stat-at $mkdir $unlink
          $rmdir $rename $symlink $readlink $size $type $flags $link $times-at $times
          (local.get $op)))
      ;; open-at: path flags `c`, open flags `d`, descriptor flags `e`
      (call $open-at (call $fd (local.get $a)) (i32.and (local.get $c) (i32.const 1))
        (call $path (local.get $b)) (call $path-len (local.get $b))
        (call $open-flags (local.get $d)) (call $descriptor-flags (local.get $e))
        (i32.const 0x40))
      (if (call $result (i32.const 0x40) (i32.const 4))
        (then
          (if (i32.lt_u (global.get $fds) (i32.const 16))
            (then
              (i32.store (i32.add (i32.const 0x100) (i32.shl (global.get $fds) (i32.const 2)))
                (i32.load (i32.const 0x44)))
              (global.set $fds (i32.add (global.get $fds) (i32.const 1)))))))
      (br $done))
      (call $op-write (local.get $a) (local.get $c) (local.get $d) (local.get $e) (i32.const 0))
      (br $done))
      (call $op-write (local.get $a) (local.get $c) (local.get $d) (local.get $e) (i32.const 1))
      (br $done))
      (call $op-read (local.get $a) (local.get $c) (local.get $e))
      (br $done))
      (call $op-list (local.get $a))
      (br $done))
      (call $stat (call $fd (local.get $a)) (i32.const 0x40))
      (call $log-stat)
      (br $done))
      (call $stat-at (call $fd (local.get $a)) (i32.and (local.get $c) (i32.const 1))
        (call $path (local.get $b)) (call $path-len (local.get $b)) (i32.const 0x40))
      (call $log-stat)
      (br $done))
      (call $create-directory-at (call $fd (local.get $a))
        (call $path (local.get $b)) (call $path-len (local.get $b)) (i32.const 0x40))
      (drop (call $result (i32.const 0x40) (i32.const 4)))
      (br $done))
      (call $unlink-file-at (call $fd (local.get $a))
        (call $path (local.get $b)) (call $path-len (local.get $b)) (i32.const 0x40))
      (drop (call $result (i32.const 0x40) (i32.const 4)))
      (br $done))
      (call $remove-directory-at (call $fd (local.get $a))
        (call $path (local.get $b)) (call $path-len (local.get $b)) (i32.const 0x40))
      (drop (call $result (i32.const 0x40) (i32.const 4)))
      (br $done))
      (call $rename-at (call $fd (local.get $a))
        (call $path (local.get $b)) (call $path-len (local.get $b))
        (call $fd (local.get $d)) (call $path (local.get $e)) (call $path-len (local.get $e))
        (i32.const 0x40))
      (drop (call $result (i32.const 0x40) (i32.const 4)))
      (br $done))
      ;; symlink-at: the target is path `e`
      (call $symlink-at (call $fd (local.get $a))
        (call $path (local.get $e)) (call $path-len (local.get $e))
        (call $path (local.get $b)) (call $path-len (local.get $b)) (i32.const 0x40))
      (drop (call $result (i32.const 0x40) (i32.const 4)))
      (br $done))
      (call $readlink-at (call $fd (local.get $a))
        (call $path (local.get $b)) (call $path-len (local.get $b)) (i32.const 0x40))
      (if (call $result (i32.const 0x40) (i32.const 4))
        (then
          (call $log32 (i32.load (i32.const 0x48)))
          (call $log-bytes (i32.load (i32.const 0x44)) (i32.load (i32.const 0x48)))))
      (br $done))
      (call $set-size (call $fd (local.get $a)) (call $offset (local.get $c)) (i32.const 0x40))
      (drop (call $result (i32.const 0x40) (i32.const 4)))
      (br $done))
      (call $get-type (call $fd (local.get $a)) (i32.const 0x40))
      (if (call $result (i32.const 0x40) (i32.const 4))
        (then (call $log8 (i32.load8_u (i32.const 0x44)))))
      (br $done))
      (call $get-flags (call $fd (local.get $a)) (i32.const 0x40))
      (if (call $result (i32.const 0x40) (i32.const 4))
        (then (call $log8 (i32.load8_u (i32.const 0x44)))))
      (br $done))
      (call $link-at (call $fd (local.get $a)) (i32.and (local.get $c) (i32.const 1))
        (call $path (local.get $b)) (call $path-len (local.get $b))
        (call $fd (local.get $d)) (call $path (local.get $e)) (call $path-len (local.get $e))
        (i32.const 0x40))
      (drop (call $result (i32.const 0x40) (i32.const 4)))
      (br $done))
      ;; set-times-at: path flags `c`, access time `d`, modification time `e`
      (call $set-times-at (call $fd (local.get $a)) (i32.and (local.get $c) (i32.const 1))
        (call $path (local.get $b)) (call $path-len (local.get $b))
        (call $time (local.get $d)) (call $time (local.get $e)) (i32.const 0x40))
      (drop (call $result (i32.const 0x40) (i32.const 4)))
      (br $done))
      (call $set-times (call $fd (local.get $a))
        (call $time (local.get $d)) (call $time (local.get $e)) (i32.const 0x40))
      (drop (call $result (i32.const 0x40) (i32.const 4)))))

    (func (export "run") (result i32)
      (local $stream i32) (local $len i32) (local $status i32) (local $pc i32)
      (local $pair i64) (local $writer i32) (local $future i32)
      (memory.fill (i32.const 0x1000) (i32.const 0x78) (i32.const 256))
      (memory.fill (i32.const 0xc000) (i32.const 0x71) (i32.const 5000))
      ;; The first preopen is slot 0; without one, nothing to do.
      (call $get-directories (i32.const 0x10))
      (if (i32.eqz (i32.load (i32.const 0x14))) (then (call $exit (i32.const 3)) unreachable))
      (i32.store (i32.const 0x100) (i32.load (i32.load (i32.const 0x10))))
      (global.set $fds (i32.const 1))
      ;; The script: stdin until it ends, at most 384 bytes (64 operations).
      (call $stdin (i32.const 0x20))
      (local.set $stream (i32.load (i32.const 0x20)))
      (block $end
        (loop $more
          (br_if $end (i32.ge_u (local.get $len) (i32.const 384)))
          (local.set $status (call $settle (local.get $stream)
            (call $stream.read (local.get $stream) (i32.add (i32.const 0x2000) (local.get $len))
              (i32.sub (i32.const 384) (local.get $len)))))
          (local.set $len (i32.add (local.get $len) (i32.shr_u (local.get $status) (i32.const 4))))
          (br_if $more (i32.eqz (i32.and (local.get $status) (i32.const 0xf))))))
      (call $stream.drop-readable (local.get $stream))
      (call $cli-future.drop-readable (i32.load (i32.const 0x24)))
      (block $end
        (loop $more
          (br_if $end (i32.gt_u (i32.add (local.get $pc) (i32.const 6)) (local.get $len)))
          (call $op
            (i32.rem_u (i32.load8_u (i32.add (i32.const 0x2000) (local.get $pc))) (i32.const 19))
            (i32.load8_u (i32.add (i32.const 0x2001) (local.get $pc)))
            (i32.load8_u (i32.add (i32.const 0x2002) (local.get $pc)))
            (i32.load8_u (i32.add (i32.const 0x2003) (local.get $pc)))
            (i32.load8_u (i32.add (i32.const 0x2004) (local.get $pc)))
            (i32.load8_u (i32.add (i32.const 0x2005) (local.get $pc))))
          (local.set $pc (i32.add (local.get $pc) (i32.const 6)))
          (br $more)))
      ;; The log to stdout.
      (local.set $pair (call $stream.new))
      (local.set $writer (i32.wrap_i64 (i64.shr_u (local.get $pair) (i64.const 32))))
      (local.set $future (call $stdout (i32.wrap_i64 (local.get $pair))))
      (drop (call $write-all (local.get $writer) (i32.const 0x4000)
        (i32.sub (global.get $log) (i32.const 0x4000))))
      (call $stream.drop-writable (local.get $writer))
      (drop (call $settle (local.get $future) (call $cli-future.read (local.get $future) (i32.const 0x40))))
      (call $cli-future.drop-readable (local.get $future))
      (call $exit (i32.const 0))
      unreachable)
    (func (export "cb") (param i32 i32 i32) (result i32) unreachable))

  (core instance $i (instantiate $m
    (with "libc" (instance $libc))
    (with "" (instance
      (export "open-at" (func $c-open-at))
      (export "write-via-stream" (func $c-write-via-stream))
      (export "append-via-stream" (func $c-append-via-stream))
      (export "read-via-stream" (func $c-read-via-stream))
      (export "read-directory" (func $c-read-directory))
      (export "stat" (func $c-stat))
      (export "stat-at" (func $c-stat-at))
      (export "create-directory-at" (func $c-create-directory-at))
      (export "unlink-file-at" (func $c-unlink-file-at))
      (export "remove-directory-at" (func $c-remove-directory-at))
      (export "rename-at" (func $c-rename-at))
      (export "symlink-at" (func $c-symlink-at))
      (export "readlink-at" (func $c-readlink-at))
      (export "set-size" (func $c-set-size))
      (export "get-type" (func $c-get-type))
      (export "get-flags" (func $c-get-flags))
      (export "link-at" (func $c-link-at))
      (export "set-times-at" (func $c-set-times-at))
      (export "set-times" (func $c-set-times))
      (export "get-directories" (func $c-get-directories))
      (export "stdin" (func $c-stdin))
      (export "stdout" (func $c-stdout))
      (export "exit" (func $c-exit))
      (export "stream.new" (func $c-stream.new))
      (export "stream.write" (func $c-stream.write))
      (export "stream.read" (func $c-stream.read))
      (export "stream.drop-writable" (func $c-stream.drop-writable))
      (export "stream.drop-readable" (func $c-stream.drop-readable))
      (export "entries.read" (func $c-entries.read))
      (export "entries.drop-readable" (func $c-entries.drop-readable))
      (export "future.read" (func $c-future.read))
      (export "future.drop-readable" (func $c-future.drop-readable))
      (export "cli-future.read" (func $c-cli-future.read))
      (export "cli-future.drop-readable" (func $c-cli-future.drop-readable))
      (export "waitable-set.new" (func $c-waitable-set.new))
      (export "waitable-set.wait" (func $c-waitable-set.wait))
      (export "waitable-set.drop" (func $c-waitable-set.drop))
      (export "waitable.join" (func $c-waitable.join))))))
  (func $run async (result (result))
    (canon lift (core func $i "run") async (callback (core func $i "cb"))))
  (instance $run (export "run" (func $run)))
  (export "wasi:cli/run@0.3.0" (instance $run)))
