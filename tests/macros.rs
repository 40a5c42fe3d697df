//! Compile-time behaviour of `#[consumer]` and `#[server_events]`: every supported shape compiles, and every mistake
//! fails with its message on the user's token (`TRYBUILD=overwrite` regenerates the `.stderr`).

#[test]
fn consumer_macro() {
    let cases = trybuild::TestCases::new();
    cases.pass("tests/ui/pass/*.rs");
    cases.compile_fail("tests/ui/consumer/*.rs");
    cases.compile_fail("tests/ui/server_events/*.rs");
}
