from tests.e2e.harness import get


def test_status_command_answers_through_response_url(bot, client, slack):
    response = client.command('objective add "Grow activation" team <#C1|growth>', user_id="U1", channel_id="C1")
    assert response.status_code == 200
    bot.settle()
    assert slack.wait_for("response_url")
    response = client.command("status all", user_id="U1", channel_id="C1")
    assert response.status_code == 200
    bot.settle()
    answers = slack.calls("response_url")
    text = str(answers[-1].args)
    assert "Grow activation" in text


def test_healthz_reports_the_database(bot):
    response = get(f"{bot.url}/healthz")
    assert response.status_code == 200
    assert response.json() == {"ok": True, "database": bot.db.backend, "workers": "1 of 1"}
