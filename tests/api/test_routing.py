"""Paths, versions, methods and authentication: what answers, and with which Graph error."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from tests.api.support import ME, assert_graph_error, create, entity, listed
from tests.factories import Tokens

ADMIN_SCOPES = "User.ReadWrite.All"
UNKNOWN_ID = "3f8a0c1e-9b1d-4c47-a1c2-5b0e9d7f6a21"


@pytest.fixture
def admin(tokens: Tokens) -> dict[str, str]:
    return tokens.headers(upn="admin@contoso.com", scopes=ADMIN_SCOPES)


class TestAuthentication:
    def test_missing_or_invalid_token_is_401_with_www_authenticate(self, client: TestClient) -> None:
        for authorization in (None, "", "Bearer", "Bearer ", "Basic YWxpY2U6c2VjcmV0", "Bearer not-a-jwt",
                              "Bearer a.b.c"):
            headers = {} if authorization is None else {"Authorization": authorization}
            response = client.get(ME, headers=headers)
            assert_graph_error(response, 401, "InvalidAuthenticationToken", case=authorization)
            assert response.headers["www-authenticate"].startswith("Bearer"), authorization

    def test_expired_foreign_or_tampered_tokens_are_401(self, client: TestClient, tokens: Tokens) -> None:
        header, payload, signature = tokens.delegated().split(".")
        bad = {
            "expired": tokens.delegated(expires_in=-3600),
            "other audience": tokens.delegated(audience="api://someone-else"),
            "other issuer": tokens.delegated(issuer="https://evil.example/v2.0"),
            "tampered": f"{header}.{payload}.{signature[:-4]}AAAA",
        }
        for case, token in bad.items():
            response = client.get(ME, headers=tokens.headers(token))
            assert_graph_error(response, 401, "InvalidAuthenticationToken", case=case)

    def test_a_rejected_write_without_a_token_changes_nothing(self, client: TestClient, tokens: Tokens) -> None:
        assert client.post(ME, json={"tag": "en"}).status_code == 401
        assert listed(client, tokens.headers()) == []

    def test_me_is_the_user_named_by_the_tokens_oid(self, client: TestClient, tokens: Tokens) -> None:
        created = create(client, tokens.headers(upn="lena@contoso.com"))
        again = tokens.headers(upn="LENA@contoso.com", user_id=tokens.user_id("lena@contoso.com"))
        assert [x["id"] for x in listed(client, again)] == [created["id"]]


class TestPaths:
    def test_literal_segments_match_case_insensitively(self, client: TestClient, tokens: Tokens) -> None:
        for path in ("/Beta/me/profile/languages", "/BETA/ME/PROFILE/LANGUAGES", "/beta/Me/Profile/Languages/"):
            assert client.get(path, headers=tokens.headers()).status_code == 200, path

    def test_unknown_path_under_beta_is_404(self, client: TestClient, tokens: Tokens) -> None:
        for path in ("/beta/me/profile/skills", "/beta/me/profile/languages/x/y", "/beta/me", "/beta/users",
                     "/beta/users/alice@contoso.com/profile/languages/x/y", "/beta/languages"):
            assert_graph_error(client.get(path, headers=tokens.headers()), 404, "UnknownPath", case=path)

    def test_unknown_path_outside_any_version_is_404(self, client: TestClient) -> None:
        for path in ("/", "/nowhere", "/me/profile/languages", "/v2.0/me/profile/languages"):
            assert_graph_error(client.get(path), 404, "UnknownPath", case=path)

    def test_v1_answers_that_the_profile_segment_is_not_found(self, client: TestClient, tokens: Tokens) -> None:
        for path in ("/v1.0/me/profile/languages", "/v1.0/me/profile/languages/x",
                     "/V1.0/users/alice@contoso.com/profile/languages"):
            for method in ("GET", "POST", "PATCH", "DELETE"):
                response = client.request(method, path, headers=tokens.headers(), json={"tag": "en"})
                assert_graph_error(response, 400, "BadRequest", "segment 'profile'", case=(method, path))
        assert listed(client, tokens.headers()) == []


class TestMethods:
    def test_method_a_route_lacks_is_405_with_allow(self, client: TestClient, tokens: Tokens) -> None:
        for method, path, allow in [
            ("DELETE", ME, "GET, PATCH, POST"),
            ("PUT", ME, "GET, PATCH, POST"),
            ("POST", f"{ME}/{UNKNOWN_ID}", "DELETE, GET, PATCH"),
            ("PUT", f"{ME}/{UNKNOWN_ID}", "DELETE, GET, PATCH"),
            ("GET", "/beta/user/alice@contoso.com/profile/languages", "PATCH"),
            ("POST", "/beta/user/alice@contoso.com/profile/languages", "PATCH"),
        ]:
            response = client.request(method, path, headers=tokens.headers())
            assert_graph_error(response, 405, "MethodNotAllowed", method, case=(method, path))
            assert response.headers["allow"] == allow, (method, path)


class TestUserSegment:
    def test_upn_is_percent_decoded_and_matched_case_insensitively(self, client: TestClient, tokens: Tokens,
                                                                   admin: dict[str, str]) -> None:
        created = create(client, tokens.headers(upn="nina@contoso.com"))
        for segment in ("nina@contoso.com", "nina%40contoso.com", "NINA%40Contoso.COM", "Nina@CONTOSO.com"):
            collection = f"/beta/users/{segment}/profile/languages"
            assert [x["id"] for x in listed(client, admin, collection)] == [created["id"]], segment
            assert client.get(f"{collection}/{created['id']}", headers=admin).status_code == 200, segment

    def test_encoded_slash_stays_inside_the_user_segment(self, client: TestClient, tokens: Tokens,
                                                         admin: dict[str, str]) -> None:
        created = create(client, tokens.headers(upn="dev/ops@contoso.com"))
        for segment in ("dev%2Fops%40contoso.com", "DEV%2fOPS@contoso.com"):
            collection = f"/beta/users/{segment}/profile/languages"
            assert [x["id"] for x in listed(client, admin, collection)] == [created["id"]]

    def test_object_id_is_matched_case_insensitively(self, client: TestClient, tokens: Tokens,
                                                     admin: dict[str, str]) -> None:
        created = create(client, tokens.headers(upn="omar@contoso.com"))
        user_id = tokens.user_id("omar@contoso.com").upper()
        assert [x["id"] for x in listed(client, admin, f"/beta/users/{user_id}/profile/languages")] == [
            created["id"]]

    def test_a_upn_without_an_at_sign_is_found_as_surely_as_an_object_id(self, client: TestClient, tokens: Tokens,
                                                                          admin: dict[str, str]) -> None:
        # A key without '@' is looked up as an object id first; a user principal name shaped like one
        # must still be found.
        created = create(client, tokens.headers(upn="kiosk-7"))
        for segment in ("kiosk-7", "KIOSK-7", tokens.user_id("kiosk-7"), "nobody@contoso.com", UNKNOWN_ID):
            collection = f"/beta/users/{segment}/profile/languages"
            found = segment not in ("nobody@contoso.com", UNKNOWN_ID)
            listing = client.get(collection, headers=admin)
            item = client.get(f"{collection}/{created['id']}", headers=admin)
            if found:
                assert [x["id"] for x in listing.json()["value"]] == [created["id"]], segment
                assert item.status_code == 200, segment
            else:
                assert_graph_error(listing, 404, "Request_ResourceNotFound", segment, case=segment)
                assert_graph_error(item, 404, "Request_ResourceNotFound", segment, case=segment)

    def test_keys_may_be_given_in_odata_parentheses(self, client: TestClient, tokens: Tokens,
                                                    admin: dict[str, str]) -> None:
        created = create(client, tokens.headers(upn="o'neil@contoso.com"))
        for user in ("users('o''neil@contoso.com')", "users('o%27%27neil%40contoso.com')"):
            item = f"/beta/{user}/profile/languages('{created['id']}')"
            assert client.get(item, headers=admin).json()["id"] == created["id"], user
            assert client.patch(item, headers=admin, json={"spoken": "elementary"}).status_code == 200, user
        mine = f"{ME}('{created['id']}')"
        owner = tokens.headers(upn="o'neil@contoso.com")
        assert client.delete(mine, headers=owner).status_code == 204
        assert_graph_error(client.get(mine, headers=owner), 404, "itemNotFound", created["id"])

    def test_a_parenthesised_key_that_is_not_a_string_literal_is_not_a_route(self, client: TestClient,
                                                                              tokens: Tokens) -> None:
        for path in (f"{ME}('')", f"{ME}(x)", f"{ME}('a'b')"):
            assert_graph_error(client.get(path, headers=tokens.headers()), 404, "UnknownPath", case=path)

    def test_invalid_percent_encoding_is_400(self, client: TestClient, admin: dict[str, str]) -> None:
        assert_graph_error(client.get("/beta/users/%FF%FE/profile/languages", headers=admin), 400, "BadRequest")

    def test_nul_in_a_path_segment_is_400(self, client: TestClient, admin: dict[str, str]) -> None:
        for path in ("/beta/users/a%00b/profile/languages", f"{ME}/a%00b"):
            assert_graph_error(client.get(path, headers=admin), 400, "BadRequest", "NUL", case=path)


class TestNotFound:
    def test_unknown_user_is_404_request_resource_not_found(self, client: TestClient,
                                                            admin: dict[str, str]) -> None:
        collection = "/beta/users/nobody%40contoso.com/profile/languages"
        for method, path in [("GET", collection), ("POST", collection), ("PATCH", collection),
                             ("GET", f"{collection}/{UNKNOWN_ID}"), ("PATCH", f"{collection}/{UNKNOWN_ID}"),
                             ("DELETE", f"{collection}/{UNKNOWN_ID}")]:
            response = client.request(method, path, headers=admin, json={"tag": "en"})
            assert_graph_error(response, 404, "Request_ResourceNotFound", "nobody@contoso.com", case=(method, path))

    def test_unknown_language_is_404_item_not_found(self, client: TestClient, tokens: Tokens) -> None:
        headers = tokens.headers()
        existing = create(client, headers)
        for method in ("GET", "PATCH", "DELETE"):
            response = client.request(method, f"{ME}/{UNKNOWN_ID}", headers=headers, json={"tag": "fr"})
            assert_graph_error(response, 404, "itemNotFound", UNKNOWN_ID, case=method)
        assert [entity(x) for x in listed(client, headers)] == [entity(existing)]

    def test_language_ids_that_are_not_guids_are_404(self, client: TestClient, tokens: Tokens) -> None:
        for language_id in ("not-a-guid", "1", "%20"):
            response = client.get(f"{ME}/{language_id}", headers=tokens.headers())
            assert_graph_error(response, 404, "itemNotFound", case=language_id)

    def test_another_users_language_is_not_found_through_me(self, client: TestClient, tokens: Tokens) -> None:
        theirs = create(client, tokens.headers(upn="paul@contoso.com"))
        for method in ("GET", "PATCH", "DELETE"):
            response = client.request(method, f"{ME}/{theirs['id']}", headers=tokens.headers(upn="quinn@contoso.com"),
                                      json={"tag": "fr"})
            assert_graph_error(response, 404, "itemNotFound", case=method)
        assert [entity(x) for x in listed(client, tokens.headers(upn="paul@contoso.com"))] == [entity(theirs)]


class TestSelect:
    def test_select_on_the_list_with_or_without_dollar(self, client: TestClient, tokens: Tokens) -> None:
        headers = tokens.headers()
        create(client, headers, {"tag": "nb-NO", "spoken": "elementary"})
        for option in ("$select", "select", "$SELECT", "Select"):
            body = client.get(f"{ME}?{option}=tag,spoken", headers=headers).json()
            assert [entity(x) for x in body["value"]] == [{"tag": "nb-NO", "spoken": "elementary"}], option
            assert body["@odata.context"].endswith("/profile/languages(tag,spoken)"), option

    def test_select_on_an_item_with_or_without_dollar(self, client: TestClient, tokens: Tokens) -> None:
        headers = tokens.headers()
        created = create(client, headers, {"tag": "nb-NO"})
        for option in ("$select", "select"):
            response = client.get(f"{ME}/{created['id']}?{option}=displayName,id", headers=headers)
            assert response.status_code == 200, option
            body = response.json()
            assert entity(body) == {"displayName": "Norwegian Bokmål", "id": created["id"]}, option
            assert body["@odata.context"].endswith("/profile/languages(displayName,id)/$entity"), option

    def test_select_property_names_match_case_insensitively(self, client: TestClient, tokens: Tokens) -> None:
        headers = tokens.headers()
        create(client, headers, {"tag": "nb-NO"})
        item = client.get(f"{ME}?$select=DISPLAYNAME", headers=headers).json()["value"][0]
        assert item["displayName"] == "Norwegian Bokmål"

    def test_select_star_returns_every_property(self, client: TestClient, tokens: Tokens) -> None:
        headers = tokens.headers()
        created = create(client, headers)
        item = client.get(f"{ME}?$select=*", headers=headers).json()["value"][0]
        assert entity(item) == entity(created)

    def test_unknown_property_in_select_is_400_naming_it(self, client: TestClient, tokens: Tokens) -> None:
        for path in (ME, f"{ME}/{UNKNOWN_ID}"):
            for option in ("$select", "select"):
                response = client.get(f"{path}?{option}=tag,fluency", headers=tokens.headers())
                assert_graph_error(response, 400, "BadRequest", "'fluency'", "microsoft.graph.languageProficiency",
                                   case=(path, option))

    def test_empty_select_item_is_400(self, client: TestClient, tokens: Tokens) -> None:
        assert_graph_error(client.get(f"{ME}?$select=tag,,spoken", headers=tokens.headers()), 400, "BadRequest",
                           "$select")

    def test_custom_query_parameters_are_ignored(self, client: TestClient, tokens: Tokens) -> None:
        assert client.get(f"{ME}?foo=bar", headers=tokens.headers()).status_code == 200
