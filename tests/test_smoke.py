from conftest import login


def test_front_page_renders(client):
    response = client.get("/")
    assert response.status_code == 200
    assert b"Search the hints" in response.data


def test_login_with_shared_directory_account(client):
    response = login(client, "setter")
    assert response.status_code == 302
    assert b"Sam Setter" in client.get("/").data


def test_login_rejects_user_in_no_group(client):
    response = login(client, "solver")
    assert response.status_code == 401
    assert b"Invalid user name or password." in response.data
