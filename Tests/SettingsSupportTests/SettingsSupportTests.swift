import Testing

@testable import SettingsSupport

@Suite struct SettingsSupportTests {
    @Test func environmentValuesParseLikeFlags() throws {
        let environment = EnvironmentSettings(["A": "12", "B": "x", "C": "yes", "D": "off", "E": ""])
        #expect(try environment.value("A", as: Int.self) == 12)
        #expect(try environment.value("E", as: Int.self) == nil)
        #expect(try environment.value("missing", as: Int.self) == nil)
        #expect(throws: (any Error).self) { try environment.value("B", as: Int.self) }
        #expect(try environment.flag("C") == true)
        #expect(try environment.flag("D") == false)
        #expect(throws: (any Error).self) { try environment.flag("B") }
    }
}
