#ifndef HIPKIT_CCMARKGFM_H
#define HIPKIT_CCMARKGFM_H

#include <cmark-gfm.h>
#include <cmark-gfm-core-extensions.h>

/// A bump allocator for the pages one thread renders, one page at a time: cmark's allocations
/// (about a thousand small ones a page, each zeroed) come from a few large blocks, nothing is
/// freed one by one, and the blocks are reused for the next page (up to 1 MiB of them: a huge
/// page's are given back after it).
///
/// The `cmark-gfm` program allocates the same way (cmark's own arena, which is one for the whole
/// process and cannot serve pages rendered side by side). With `malloc` and `free`, cmark's
/// parse, render and freeing of a generated 2.7 KB page took 0.95 M instructions; with an
/// arena, 0.70 M.
///
/// In C because cmark's allocator functions take no context: each thread finds its arena in a
/// thread-local variable. Written in Swift, behind `pthread_getspecific` and the closures cmark
/// calls, the same allocator cost 84 M instructions in a build of 1,000 pages, cmark's most
/// frequent call; in C, a few instructions a call.

/// cmark's allocator functions, reading the calling thread's arena: for
/// `cmark_parser_new_with_mem`, between `hipkit_arena_enter` and `hipkit_arena_leave`.
cmark_mem *hipkit_arena_allocator(void);

/// Makes the calling thread's arena ready for a page, and returns it for `hipkit_arena_leave`.
/// A render started inside another on one thread (from its link rewriter) gets an arena of its
/// own. NULL when no memory is left.
void *hipkit_arena_enter(void);

/// Ends the render: everything allocated since `hipkit_arena_enter` is given back at once.
void hipkit_arena_leave(void *arena);

#endif
