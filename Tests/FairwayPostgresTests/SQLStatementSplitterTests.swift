import FairwayPostgres
import Testing

@Suite("SQLStatementSplitter")
struct SQLStatementSplitterTests {
    let splitter = SQLStatementSplitter()

    @Test func plainStatements() {
        #expect(splitter.statements(in: "CREATE TABLE a (x int);\n\nSELECT 1 ;SELECT 2") == [
            "CREATE TABLE a (x int)", "SELECT 1", "SELECT 2",
        ])
    }

    @Test func semicolonsInsideQuotesAndCommentsDoNotSplit() {
        let script = """
            -- a comment; with a semicolon
            INSERT INTO t VALUES ('a;b', 'it''s; fine', E'back\\'slash;');
            /* block; /* nested; */ still comment; */
            SELECT "weird;name" FROM t;
            """
        #expect(splitter.statements(in: script) == [
            "-- a comment; with a semicolon\nINSERT INTO t VALUES ('a;b', 'it''s; fine', E'back\\'slash;')",
            "/* block; /* nested; */ still comment; */\nSELECT \"weird;name\" FROM t",
        ])
    }

    @Test func dollarQuotedBodiesStayWhole() {
        let script = """
            CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$
            BEGIN
                PERFORM 1; RETURN 2;
            END
            $$;
            CREATE FUNCTION g() RETURNS text LANGUAGE sql AS $body$ SELECT '$$;' $body$;
            SELECT $1::int;
            """
        let statements = splitter.statements(in: script)
        #expect(statements.count == 3)
        #expect(statements[0].hasSuffix("END\n$$"))
        #expect(statements[1] == "CREATE FUNCTION g() RETURNS text LANGUAGE sql AS $body$ SELECT '$$;' $body$")
        #expect(statements[2] == "SELECT $1::int")
    }

    @Test func commentOnlyTailIsDropped() {
        #expect(splitter.statements(in: "SELECT 1;\n-- the end\n") == ["SELECT 1"])
    }
}
