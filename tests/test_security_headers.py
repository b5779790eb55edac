def test_pages_send_a_content_security_policy_that_allows_only_our_origin(client):
    response = client.get("/login/")
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "script-src 'self'" in policy
    assert "cdn" not in response.content.decode().lower()


def test_anonymous_people_are_sent_to_login(client):
    for url in ("/", "/groups/", "/licenses/dashboard/", "/licenses/reports/usage/", "/notifications/"):
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"], url
