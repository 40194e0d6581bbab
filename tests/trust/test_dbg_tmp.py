from tests.trust.test_fuzz import *
def test_dbg(fuzz_bot):
    bot, slack, okr = fuzz_bot
    n=len(slack.calls())
    a = okr("link https://evil.example/a|bank> KR-1")
    print("REPLY", a.text[:500])
    for c in slack.calls()[n:]:
        print(c.method, json.dumps(c.args)[:600])
    print(urls_of_work(bot))
