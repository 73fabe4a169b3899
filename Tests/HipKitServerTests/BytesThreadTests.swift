import Foundation
import Synchronization
import Testing

@testable import HipKitServer

@Suite struct BytesThreadTests {
    struct Refused: Error, Equatable {
        var value: Int
    }

    @Test("work runs on the thread of its own, and each caller gets its own result or error")
    func resultsAndErrorsReachTheirCaller() async throws {
        let callers = 8
        let outcomes = Mutex<[Int: Result<String, any Error>]>([:])
        DispatchQueue.concurrentPerform(iterations: callers) { index in
            let outcome = Result<String, any Error> {
                let caller = pthread_self()
                return try BytesThread.shared.run { () throws -> String in
                    #expect(pthread_equal(pthread_self(), caller) == 0, "ran on the caller's thread")
                    #expect(pthread_equal(pthread_self(), BytesThread.shared.threadID) != 0)
                    if index % 3 == 0 { throw Refused(value: index) }
                    return String(repeating: "x", count: index)
                }
            }
            outcomes.withLock { $0[index] = outcome }
        }
        let seen = outcomes.withLock { $0 }
        #expect(seen.count == callers)
        for (index, outcome) in seen {
            if index % 3 == 0 {
                #expect(throws: Refused(value: index)) { _ = try outcome.get() }
            } else {
                #expect(try outcome.get() == String(repeating: "x", count: index))
            }
        }
    }
}
