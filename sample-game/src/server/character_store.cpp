// The SQLite character store (see character_store.hpp).
#include "character_store.hpp"

#include <sqlite3.h>

namespace quay::game::server {

namespace {

// Migrations, in order: migrations[i] takes the schema from version i to i + 1. Appended,
// never edited, so every existing database reaches the current version the same way.
constexpr const char* migrations[] = {
    "CREATE TABLE characters ("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE,"
    "  token TEXT NOT NULL,"
    "  zone_id INTEGER NOT NULL,"
    "  x REAL NOT NULL, y REAL NOT NULL, has_pos INTEGER NOT NULL,"
    "  level INTEGER NOT NULL, xp INTEGER NOT NULL, hp INTEGER NOT NULL,"
    "  saved_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP);",
    // Issue 20: argon2id hashes. `token` keeps legacy plain tokens until their next login.
    "ALTER TABLE characters ADD COLUMN secret TEXT NOT NULL DEFAULT '';",
    "ALTER TABLE characters ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0;",
};
static_assert(std::size(migrations) == character_store::schema_version);

// Finalizes a statement on every path.
struct statement {
  sqlite3_stmt* s = nullptr;
  ~statement() { sqlite3_finalize(s); }
};

}  // namespace

character_store::~character_store() {
  if (db_ != nullptr) {
    sqlite3_close(db_);
  }
}

std::string character_store::exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string m = err != nullptr ? err : "unknown sqlite error";
    sqlite3_free(err);
    return m;
  }
  return {};
}

int character_store::version() {
  std::lock_guard lock(mu_);
  statement st;
  if (db_ == nullptr || sqlite3_prepare_v2(db_, "PRAGMA user_version", -1, &st.s, nullptr) != SQLITE_OK ||
      sqlite3_step(st.s) != SQLITE_ROW) {
    return -1;
  }
  return sqlite3_column_int(st.s, 0);
}

std::string character_store::open(const std::string& path, int busy_timeout_ms) {
  {
    std::lock_guard lock(mu_);
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) !=
        SQLITE_OK) {
      std::string m = db_ != nullptr ? sqlite3_errmsg(db_) : "out of memory";
      sqlite3_close(db_);
      db_ = nullptr;
      return path + ": " + m;
    }
    sqlite3_busy_timeout(db_, busy_timeout_ms);
    if (auto e = exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"); !e.empty()) {
      return e;
    }
  }
  const int have = version();
  if (have > schema_version) {
    return path + ": schema version " + std::to_string(have) + " is newer than this server (" +
           std::to_string(schema_version) + ")";
  }
  std::lock_guard lock(mu_);
  for (int v = have; v < schema_version; ++v) {
    const std::string sql = std::string("BEGIN;") + migrations[v] +
                            "PRAGMA user_version=" + std::to_string(v + 1) + ";COMMIT;";
    if (auto e = exec(sql.c_str()); !e.empty()) {
      exec("ROLLBACK;");
      return path + ": migration to version " + std::to_string(v + 1) + ": " + e;
    }
  }
  return {};
}

std::vector<stored_character> character_store::load_all(std::string& error) {
  std::lock_guard lock(mu_);
  std::vector<stored_character> out;
  statement st;
  if (sqlite3_prepare_v2(db_,
                         "SELECT id, name, token, zone_id, x, y, has_pos, level, xp, hp, secret, disabled "
                         "FROM characters ORDER BY id",
                         -1, &st.s, nullptr) != SQLITE_OK) {
    error = sqlite3_errmsg(db_);
    return out;
  }
  int rc = SQLITE_ROW;
  while ((rc = sqlite3_step(st.s)) == SQLITE_ROW) {
    stored_character c;
    const auto text = [&](int col) {
      const auto* p = sqlite3_column_text(st.s, col);
      return p != nullptr ? std::string(reinterpret_cast<const char*>(p)) : std::string();
    };
    c.record.character_id = static_cast<std::uint64_t>(sqlite3_column_int64(st.s, 0));
    c.record.name = text(1);
    c.token = text(2);
    c.record.zone_id = static_cast<std::uint32_t>(sqlite3_column_int64(st.s, 3));
    c.record.pos = {static_cast<float>(sqlite3_column_double(st.s, 4)),
                    static_cast<float>(sqlite3_column_double(st.s, 5))};
    c.record.has_pos = sqlite3_column_int(st.s, 6) != 0;
    c.record.level = sqlite3_column_int(st.s, 7);
    c.record.xp = sqlite3_column_int64(st.s, 8);
    c.record.hp = sqlite3_column_int(st.s, 9);
    c.secret = text(10);
    c.disabled = sqlite3_column_int(st.s, 11) != 0;
    out.push_back(std::move(c));
  }
  if (rc != SQLITE_DONE) {
    error = sqlite3_errmsg(db_);
  }
  return out;
}

std::string character_store::create_account(const std::string& name, const std::string& secret,
                                            std::uint32_t start_zone) {
  std::lock_guard lock(mu_);
  statement st;
  // Names are unique regardless of case (the server's rule): lower() folds ASCII, which is all
  // a valid name holds.
  if (sqlite3_prepare_v2(db_,
                         "INSERT INTO characters (name, token, zone_id, x, y, has_pos, level, xp, "
                         "hp, secret) SELECT ?1, '', ?2, 0, 0, 0, 1, 0, 0, ?3 WHERE NOT EXISTS "
                         "(SELECT 1 FROM characters WHERE lower(name) = lower(?1))",
                         -1, &st.s, nullptr) != SQLITE_OK) {
    return sqlite3_errmsg(db_);
  }
  sqlite3_bind_text(st.s, 1, name.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64(st.s, 2, start_zone);
  sqlite3_bind_text(st.s, 3, secret.c_str(), -1, SQLITE_TRANSIENT);
  if (sqlite3_step(st.s) != SQLITE_DONE) {
    return sqlite3_errmsg(db_);
  }
  return sqlite3_changes(db_) == 1 ? std::string() : std::string("exists");
}

std::string character_store::update_one(const char* sql, const std::string& name,
                                        const std::string* text, int number) {
  std::lock_guard lock(mu_);
  statement st;
  if (sqlite3_prepare_v2(db_, sql, -1, &st.s, nullptr) != SQLITE_OK) {
    return sqlite3_errmsg(db_);
  }
  sqlite3_bind_text(st.s, 1, name.c_str(), -1, SQLITE_TRANSIENT);
  if (text != nullptr) {
    sqlite3_bind_text(st.s, 2, text->c_str(), -1, SQLITE_TRANSIENT);
  } else {
    sqlite3_bind_int(st.s, 2, number);
  }
  if (sqlite3_step(st.s) != SQLITE_DONE) {
    return sqlite3_errmsg(db_);
  }
  return sqlite3_changes(db_) == 1 ? std::string() : std::string("no such account");
}

std::string character_store::set_secret(const std::string& name, const std::string& secret) {
  return update_one("UPDATE characters SET secret = ?2, token = '' WHERE lower(name) = lower(?1)",
                    name, &secret, 0);
}

std::string character_store::set_disabled(const std::string& name, bool disabled) {
  return update_one("UPDATE characters SET disabled = ?2 WHERE lower(name) = lower(?1)", name,
                    nullptr, disabled ? 1 : 0);
}

std::string character_store::limit_pages(std::uint32_t pages) {
  std::lock_guard lock(mu_);
  return exec(("PRAGMA max_page_count=" + std::to_string(pages) + ";").c_str());
}

std::string character_store::save(const std::vector<stored_character>& batch) {
  std::lock_guard lock(mu_);
  // IMMEDIATE takes the write lock up front: a database locked by another writer fails here
  // (after the busy timeout), before anything is written.
  if (auto e = exec("BEGIN IMMEDIATE;"); !e.empty()) {
    return e;
  }
  statement st;
  if (sqlite3_prepare_v2(db_,
                         "INSERT INTO characters (id, name, token, zone_id, x, y, has_pos, level, "
                         "xp, hp, secret, disabled) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, "
                         "?10, ?11, ?12) "
                         "ON CONFLICT(id) DO UPDATE SET token=?3, zone_id=?4, x=?5, y=?6, "
                         "has_pos=?7, level=?8, xp=?9, hp=?10, secret=?11, disabled=?12, "
                         "saved_at=CURRENT_TIMESTAMP",
                         -1, &st.s, nullptr) != SQLITE_OK) {
    std::string m = sqlite3_errmsg(db_);
    exec("ROLLBACK;");
    return m;
  }
  for (const auto& c : batch) {
    const auto& r = c.record;
    sqlite3_bind_int64(st.s, 1, static_cast<sqlite3_int64>(r.character_id));
    sqlite3_bind_text(st.s, 2, r.name.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st.s, 3, c.token.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st.s, 4, r.zone_id);
    sqlite3_bind_double(st.s, 5, r.pos.x);
    sqlite3_bind_double(st.s, 6, r.pos.y);
    sqlite3_bind_int(st.s, 7, r.has_pos ? 1 : 0);
    sqlite3_bind_int(st.s, 8, r.level);
    sqlite3_bind_int64(st.s, 9, r.xp);
    sqlite3_bind_int(st.s, 10, r.hp);
    sqlite3_bind_text(st.s, 11, c.secret.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st.s, 12, c.disabled ? 1 : 0);
    if (sqlite3_step(st.s) != SQLITE_DONE) {
      std::string m = sqlite3_errmsg(db_);
      exec("ROLLBACK;");
      return m;
    }
    sqlite3_reset(st.s);
  }
  if (auto e = exec("COMMIT;"); !e.empty()) {
    // A COMMIT that fails (busy, full, I/O) may leave the transaction open: end it, so the
    // next batch starts clean and the file keeps only whole batches.
    if (sqlite3_get_autocommit(db_) == 0) {
      exec("ROLLBACK;");
    }
    return e;
  }
  return {};
}

}  // namespace quay::game::server
