"""`sheaf user add|passwd`: account administration from the shell, against
the same data dir as a running server."""

import subprocess

from conftest import SHEAF_BIN, assert_error, base_env


def sheaf_user(args, data_dir, stdin):
    return subprocess.run([SHEAF_BIN, "user", *args, "--data-dir", str(data_dir)],
                          input=stdin, capture_output=True, text=True, timeout=60,
                          env=base_env())


def login(srv, email, password):
    return srv.post("/api/auth/login", json={"email": email, "password": password})


def test_add_then_login(sheaf):
    r = sheaf_user(["add", " Ops@Example.COM ", "--name", "Ops team"], sheaf.data_dir,
                   "Cli-password-123\n")
    assert r.returncode == 0, r.stderr
    assert "ops@example.com" in r.stdout
    tokens = login(sheaf, "ops@example.com", "Cli-password-123")
    assert tokens.status_code == 200, tokens.text
    me = sheaf.get("/api/users/me", headers={
        "Authorization": "Bearer " + tokens.json()["access_token"]})
    assert me.json()["name"] == "Ops team"


def test_add_refuses_weak_password_and_taken_email(sheaf):
    r = sheaf_user(["add", "weak@example.com"], sheaf.data_dir, "short\n")
    assert r.returncode == 1
    assert "at least 10 characters" in r.stderr
    assert_error(login(sheaf, "weak@example.com", "short"), 401, "invalid_credentials")

    user = sheaf.user
    r = sheaf_user(["add", user.email.upper()], sheaf.data_dir, "Cli-password-123\n")
    assert r.returncode == 1
    assert "already exists" in r.stderr


def test_passwd_resets_and_logs_out_everywhere(sheaf):
    user = sheaf.user
    assert user.get("/api/users/me").status_code == 200
    old_refresh = user.refresh
    r = sheaf_user(["passwd", user.email], sheaf.data_dir, "Reset-password-456\n")
    assert r.returncode == 0, r.stderr
    # The running server sees the change at once: old tokens are dead.
    assert_error(user.get("/api/users/me"), 401, "invalid_token")
    assert_error(sheaf.post("/api/auth/refresh", json={"refresh_token": old_refresh}),
                 401, "invalid_token")
    assert_error(login(sheaf, user.email, user.password), 401, "invalid_credentials")
    assert login(sheaf, user.email, "Reset-password-456").status_code == 200


def test_passwd_errors(sheaf):
    r = sheaf_user(["passwd", "nobody@example.com"], sheaf.data_dir, "Reset-password-456\n")
    assert r.returncode == 1 and "no account" in r.stderr
    r = sheaf_user(["passwd", "local@localhost"], sheaf.data_dir, "Reset-password-456\n")
    assert r.returncode != 0
    r = sheaf_user(["passwd", "not-an-email"], sheaf.data_dir, "")
    assert r.returncode == 2 and "email" in r.stderr
    r = sheaf_user(["rename", "a@example.com"], sheaf.data_dir, "")
    assert r.returncode == 2 and "unknown user command" in r.stderr
    r = sheaf_user(["passwd", sheaf.user.email], sheaf.data_dir, "")
    assert r.returncode == 1 and "no password" in r.stderr
