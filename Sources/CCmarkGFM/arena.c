// The arena of CCmarkGFM.h: blocks that start with the next block's address and their own
// size; allocations are 16-byte aligned, as malloc's are, after a 16-byte header holding their
// size (for realloc).
#include "CCmarkGFM.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum { HEADER = 16, BLOCK_SIZE = 256 * 1024, KEPT = 1024 * 1024 };

typedef struct arena {
    unsigned char *first;
    /// The block allocations come from, where its free part starts, and where it ends.
    unsigned char *block;
    unsigned char *cursor;
    unsigned char *end;
    /// The last allocation, which realloc may grow where it is.
    unsigned char *last;
    int in_use;
    /// The arena this one stands in for, when a render starts inside another on one thread.
    struct arena *outer;
} arena;

/// initial-exec: hipkit is an executable, so the variable is at a fixed offset from the thread
/// pointer, read in one instruction rather than through __tls_get_addr.
static __thread arena *current __attribute__((tls_model("initial-exec")));

/// Frees each thread's arena and its blocks when the thread ends.
static pthread_key_t slot;
static pthread_once_t slot_once = PTHREAD_ONCE_INIT;

static size_t block_size(const unsigned char *block) {
    size_t size;
    memcpy(&size, block + 8, sizeof size);
    return size;
}

static unsigned char *next_block(const unsigned char *block) {
    unsigned char *next;
    memcpy(&next, block, sizeof next);
    return next;
}

static void release(arena *a) {
    unsigned char *next = a->first;
    while (next) {
        unsigned char *block = next;
        next = next_block(block);
        free(block);
    }
}

static void thread_ended(void *value) {
    arena *a = value;
    release(a);
    free(a);
    current = NULL;
}

/// Whether `slot` was made: without it an arena is never freed with its thread, which only
/// matters to threads that end.
static int has_slot;

static void make_slot(void) { has_slot = pthread_key_create(&slot, thread_ended) == 0; }

/// Moves to the next block with room for `needed` bytes, making one if none is left.
static int next_block_for(arena *a, size_t needed) {
    // What realloc may grow in place is in the block being left.
    a->last = NULL;
    for (;;) {
        unsigned char *next = a->block ? next_block(a->block) : NULL;
        if (!next) break;
        a->block = next;
        a->cursor = next + HEADER;
        a->end = next + block_size(next);
        if ((size_t)(a->end - a->cursor) >= needed) return 1;
    }
    // No block left with room: a new one, after the last.
    size_t size = HEADER + needed > BLOCK_SIZE ? HEADER + needed : BLOCK_SIZE;
    unsigned char *fresh = malloc(size);
    if (!fresh) return 0;
    unsigned char *none = NULL;
    memcpy(fresh, &none, sizeof none);
    memcpy(fresh + 8, &size, sizeof size);
    if (a->block) memcpy(a->block, &fresh, sizeof fresh);
    else a->first = fresh;
    a->block = fresh;
    a->cursor = fresh + HEADER;
    a->end = fresh + size;
    return 1;
}

static inline void *allocate(size_t bytes, int zeroed) {
    arena *a = current;
    if (bytes > SIZE_MAX / 2) return NULL;
    size_t needed = HEADER + ((bytes + 15) & ~(size_t)15);
    if ((size_t)(a->end - a->cursor) < needed && !next_block_for(a, needed)) return NULL;
    unsigned char *start = a->cursor;
    a->cursor += needed;
    memcpy(start, &bytes, sizeof bytes);
    unsigned char *memory = start + HEADER;
    if (zeroed) memset(memory, 0, bytes);
    a->last = memory;
    return memory;
}

static void *arena_calloc(size_t count, size_t size) {
    if (size && count > SIZE_MAX / size) return NULL;
    return allocate(count * size, 1);
}

static void *arena_realloc(void *old, size_t bytes) {
    if (!old) return allocate(bytes, 0);
    arena *a = current;
    unsigned char *memory = old;
    size_t old_bytes;
    memcpy(&old_bytes, memory - HEADER, sizeof old_bytes);
    // The last allocation grows in place while its block has room.
    if (memory == a->last && bytes <= SIZE_MAX / 2) {
        size_t rounded = (bytes + 15) & ~(size_t)15;
        if ((size_t)(a->end - memory) >= rounded) {
            a->cursor = memory + rounded;
            memcpy(memory - HEADER, &bytes, sizeof bytes);
            return memory;
        }
    }
    void *moved = allocate(bytes, 0);
    if (!moved) return NULL;
    memcpy(moved, old, old_bytes < bytes ? old_bytes : bytes);
    return moved;
}

static void arena_free(void *memory) { (void)memory; }

static cmark_mem allocator = {arena_calloc, arena_realloc, arena_free};

cmark_mem *hipkit_arena_allocator(void) { return &allocator; }

void *hipkit_arena_enter(void) {
    if (current && !current->in_use) {
        current->in_use = 1;
        return current;
    }
    pthread_once(&slot_once, make_slot);
    arena *a = calloc(1, sizeof *a);
    if (!a) return NULL;
    a->in_use = 1;
    a->outer = current;
    current = a;
    if (has_slot) pthread_setspecific(slot, a);
    return a;
}

void hipkit_arena_leave(void *value) {
    arena *a = value;
    // Blocks past the first KEPT bytes go back to the system.
    size_t total = 0;
    unsigned char *previous = NULL;
    unsigned char *next = a->first;
    while (next) {
        unsigned char *block = next;
        next = next_block(block);
        total += block_size(block);
        if (total > KEPT && previous) {
            unsigned char *none = NULL;
            memcpy(previous, &none, sizeof none);
            free(block);
        } else {
            previous = block;
        }
    }
    a->block = a->first;
    a->cursor = a->first ? a->first + HEADER : NULL;
    a->end = a->first ? a->first + block_size(a->first) : NULL;
    a->last = NULL;
    a->in_use = 0;
    if (a->outer) {
        current = a->outer;
        if (has_slot) pthread_setspecific(slot, a->outer);
        release(a);
        free(a);
    }
}
