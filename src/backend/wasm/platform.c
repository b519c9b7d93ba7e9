/*
 * The platform hooks of src/backend/csrc/pfs.h for WebAssembly: a memory allocator over the
 * module's linear memory, and pfs_parallel over worker threads that share that memory; and the
 * module's exports: pfs_wasm_call (every kernel), the allocator, and the worker threads' loop.
 *
 * Built twice by scripts/build-wasm.mjs: single-threaded (pfs.wasm) and with the atomics feature
 * and a shared memory (pfs-threads.wasm, `__wasm_atomics__` defined). In the threaded build each
 * worker is a JavaScript worker running its own instance of the module over the same memory, with
 * its own stack; it calls pfs_wasm_worker_loop(), which never returns, and waits there for tasks.
 */
#include <stddef.h>
#include <stdint.h>

#include "../csrc/pfs.h"

#define EXPORT(name) __attribute__((export_name(#name)))

/* ---------------------------------------------------------------- atomics ------------------------ */

/* In the single-threaded build the compiler lowers these to plain loads and stores. */
#define LOAD(p) __atomic_load_n(p, __ATOMIC_ACQUIRE)
#define STORE(p, v) __atomic_store_n(p, v, __ATOMIC_RELEASE)
#define ADD(p, v) __atomic_fetch_add(p, v, __ATOMIC_ACQ_REL)

/* A spin lock: the allocator's critical sections are a few instructions long. */
static void lock(int *l) {
  while (__atomic_exchange_n(l, 1, __ATOMIC_ACQUIRE)) {
    while (__atomic_load_n(l, __ATOMIC_RELAXED)) {
    }
  }
}
static void unlock(int *l) { __atomic_store_n(l, 0, __ATOMIC_RELEASE); }

/* ---------------------------------------------------------------- memory ------------------------- */

/*
 * Blocks of 2^c bytes, c ≥ 7, carved from the end of the used memory (growing it when needed) and
 * kept on a free list per size when freed: no splitting or merging, so at most half of a block is
 * unused, and a program whose kernels see the same shapes over and over (a training loop) reuses
 * the same blocks. A block's first 64 bytes hold its size class; the caller gets the rest, which is
 * 64-byte aligned. Memory is never given back (WebAssembly memories only grow).
 */
#define HEADER 64
#define MIN_CLASS 7
#define CLASSES 32
#define PAGE 65536u

extern unsigned char __heap_base; /* the end of the static data and the stack (set by the linker) */

static void *free_list[CLASSES];
static uintptr_t brk;  /* the first byte not yet carved into blocks */
static int alloc_lock;

/* The block size class for a request: the smallest c with 2^c ≥ bytes + HEADER; −1 when too large. */
static int class_of(size_t bytes) {
  if (bytes > ((size_t)1 << 31) - HEADER) return -1;
  int c = MIN_CLASS;
  while (((size_t)1 << c) < bytes + HEADER) c++;
  return c;
}

/* A fresh block of 2^c bytes from the end of memory, or 0 when the memory cannot grow that far. */
static uintptr_t carve(int c) {
  if (brk == 0) brk = ((uintptr_t)&__heap_base + HEADER - 1) & ~(uintptr_t)(HEADER - 1);
  const uint64_t end = (uint64_t)brk + ((uint64_t)1 << c);
  const uint64_t have = (uint64_t)__builtin_wasm_memory_size(0) * PAGE;
  if (end > have) {
    const uint64_t pages = (end - have + PAGE - 1) / PAGE;
    if (end > ((uint64_t)1 << 32) || __builtin_wasm_memory_grow(0, (size_t)pages) == (size_t)-1) return 0;
  }
  const uintptr_t p = brk;
  brk = (uintptr_t)end;
  return p;
}

void *pfs_alloc(size_t bytes) {
  const int c = class_of(bytes);
  if (c < 0) return NULL;
  lock(&alloc_lock);
  uintptr_t block = (uintptr_t)free_list[c];
  if (block) {
    free_list[c] = *(void **)block;
  } else {
    block = carve(c);
  }
  unlock(&alloc_lock);
  if (!block) return NULL;
  *(int *)block = c;
  return (void *)(block + HEADER);
}

void pfs_free(void *p) {
  if (!p) return;
  const uintptr_t block = (uintptr_t)p - HEADER;
  const int c = *(int *)block;
  lock(&alloc_lock);
  *(void **)block = free_list[c];
  free_list[c] = (void *)block;
  unlock(&alloc_lock);
}

/* The one kernel entry point: a call packed by src/backend/marshal.ts, its arrays copied into this
 * memory (`arrays` holds their addresses, 0 for an unused one); see pfs_call in pfs.h. */
EXPORT(pfs_wasm_call) int pfs_wasm_call(const double *meta, void *const *arrays, int nthreads) {
  return pfs_call(meta, arrays, nthreads);
}

/* JavaScript's allocator for the operands it copies in (0 when memory is exhausted). */
EXPORT(pfs_wasm_alloc) void *pfs_wasm_alloc(size_t bytes) { return pfs_alloc(bytes); }
EXPORT(pfs_wasm_free) void pfs_wasm_free(void *p) { pfs_free(p); }

/* ---------------------------------------------------------------- threads ------------------------ */

#ifndef __wasm_atomics__

void pfs_parallel(pfs_task task, void *ctx, int nt) {
  for (int t = 0; t < nt; t++) task(ctx, t, nt);
}

EXPORT(pfs_wasm_workers_online) int pfs_wasm_workers_online(void) { return 0; }

#else

/*
 * One job at a time: its function, context and task count, and a word `claim` holding the job's
 * generation (high 24 bits) and the next unclaimed task (low 8 bits). The calling thread and the
 * workers take tasks by compare-and-swap on `claim`, so tasks go to whoever is free (the caller
 * runs them all when no worker has started yet), and a worker that wakes late for a finished job
 * cannot take a task of the next one: the generation no longer matches. A successful claim of
 * task i < nt proves the job is still running, so the fields read before it are that job's.
 */
static pfs_task job_task;
static void *job_ctx;
static int job_nt;
static uint32_t claim;
static int done;   /* tasks of the current job finished */
static int busy;   /* a job owns the workers */
static int online; /* workers waiting in pfs_wasm_worker_loop */
static int worker_tasks; /* tasks run on workers so far */
static int caller_may_wait; /* the calling thread may block (not so a browser's main thread) */

/* How many times a thread polls (a worker for a new job, the caller for the last tasks) before it
 * sleeps: tens of microseconds. */
#define SPIN_POLLS 20000

/* Runs tasks of job `gen` until none is left to claim; returns how many it ran. */
static int run_tasks(uint32_t gen, pfs_task task, void *ctx, int nt) {
  int ran = 0;
  for (;;) {
    uint32_t w = LOAD(&claim);
    if (w >> 8 != gen || (int)(w & 0xff) >= nt) return ran;
    if (!__atomic_compare_exchange_n(&claim, &w, w + 1, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) continue;
    task(ctx, (int)(w & 0xff), nt);
    ran++;
    ADD(&done, 1);
    __builtin_wasm_memory_atomic_notify(&done, 1); /* the caller may sleep on `done` */
  }
}

void pfs_parallel(pfs_task task, void *ctx, int nt) {
  if (nt <= 1 || LOAD(&online) == 0 || __atomic_exchange_n(&busy, 1, __ATOMIC_ACQUIRE)) {
    /* no workers, or a nested call (from inside a task): run the tasks here, one after another */
    for (int t = 0; t < nt; t++) task(ctx, t, nt);
    return;
  }
  job_task = task;
  job_ctx = ctx;
  job_nt = nt;
  STORE(&done, 0);
  const uint32_t gen = ((LOAD(&claim) >> 8) + 1) & 0xffffff;
  STORE(&claim, gen << 8); /* publishes the fields above */
  __builtin_wasm_memory_atomic_notify((int *)&claim, (unsigned)-1);
  run_tasks(gen, task, ctx, nt);
  /* the last tasks may still run on workers: spin, then sleep where the caller may block */
  for (int polls = 0;; polls++) {
    const int d = LOAD(&done);
    if (d >= nt) break;
    if (polls >= SPIN_POLLS && caller_may_wait) __builtin_wasm_memory_atomic_wait32(&done, d, 1000000 /* ns */);
  }
  unlock(&busy);
}

/* A worker's life: wait for a job, help run it, forever. */
EXPORT(pfs_wasm_worker_loop) void pfs_wasm_worker_loop(void) {
  uint32_t seen = LOAD(&claim) >> 8;
  ADD(&online, 1);
  __builtin_wasm_memory_atomic_notify(&online, (unsigned)-1);
  for (;;) {
    uint32_t w = LOAD(&claim);
    for (int polls = 0; w >> 8 == seen; polls++) {
      if (polls >= SPIN_POLLS) __builtin_wasm_memory_atomic_wait32((int *)&claim, (int)w, -1);
      w = LOAD(&claim);
    }
    seen = w >> 8;
    ADD(&worker_tasks, run_tasks(seen, job_task, job_ctx, job_nt));
  }
}

/* JavaScript says whether the calling thread may block in memory.atomic.wait (Node's main thread may). */
EXPORT(pfs_wasm_caller_may_wait) void pfs_wasm_caller_may_wait(int yes) { caller_may_wait = yes; }

/* Workers that have reached their loop (JavaScript waits on this word for them to start). */
EXPORT(pfs_wasm_workers_online) int pfs_wasm_workers_online(void) { return LOAD(&online); }
EXPORT(pfs_wasm_online_address) int *pfs_wasm_online_address(void) { return &online; }
EXPORT(pfs_wasm_worker_tasks) int pfs_wasm_worker_tasks(void) { return LOAD(&worker_tasks); }

#endif
