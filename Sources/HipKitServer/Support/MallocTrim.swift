#if os(Linux)
    /// glibc's `malloc_trim`, which its Swift module does not show: gives the heap's free pages
    /// back to the kernel (after the site is packed, and with the startup pages).
    @_silgen_name("malloc_trim")
    @discardableResult
    func malloc_trim(_ pad: Int) -> Int32
#endif
