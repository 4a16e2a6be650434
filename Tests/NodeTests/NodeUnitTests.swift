import SentenceWire
import ServerSupport
import Testing

@testable import Node

@Suite struct NodeUnitTests {
    @Test(arguments: [
        (0, 0, "1970-01-01 00:00:00.000000"),
        (1_602_175_890, 506_529, "2020-10-08 16:51:30.506529"),
        (951_827_696, 999_999, "2000-02-29 12:34:56.999999"),
        (4_102_444_799, 1, "2099-12-31 23:59:59.000001"),
    ])
    func datesUseTheOriginalFormatInUTC(seconds: Int, microseconds: Int, expected: String) {
        #expect(DocumentDate.format(seconds: seconds, microseconds: microseconds) == expected)
    }

    @Test func constantTimeCompareIsStillACompare() {
        let token = Array("s3cret".utf8)
        #expect(AdminToken.constantTimeEquals(token, token))
        #expect(!AdminToken.constantTimeEquals(Array("s3cres".utf8), token))
        #expect(!AdminToken.constantTimeEquals(Array("s3cre".utf8), token))
        #expect(!AdminToken.constantTimeEquals(Array("s3cret!".utf8), token))
        #expect(!AdminToken.constantTimeEquals([], token))
    }
}
