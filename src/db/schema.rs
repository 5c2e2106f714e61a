//! Table definitions, written by hand to match both migration directories.
//! Only portable SQL types appear here, so the same queries compile for
//! SQLite and PostgreSQL. Times are milliseconds since the Unix epoch (UTC).

diesel::table! {
    users (id) {
        id -> BigInt,
        email -> Text,
        name -> Text,
        password_hash -> Text,
        role -> Text,
        trusted -> Bool,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    sessions (id) {
        id -> BigInt,
        user_id -> BigInt,
        token_hash -> Text,
        created_at -> BigInt,
        expires_at -> BigInt,
    }
}

diesel::table! {
    articles (id) {
        id -> BigInt,
        key -> Text,
        title -> Nullable<Text>,
        url -> Nullable<Text>,
        comments_open -> Bool,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    comments (id) {
        id -> BigInt,
        article_id -> BigInt,
        parent_id -> Nullable<BigInt>,
        user_id -> Nullable<BigInt>,
        author_name -> Text,
        author_email -> Nullable<Text>,
        author_url -> Nullable<Text>,
        body -> Text,
        html -> Text,
        status -> Text,
        edit_token_hash -> Nullable<Text>,
        ip -> Nullable<Text>,
        user_agent -> Nullable<Text>,
        referrer -> Nullable<Text>,
        created_at -> BigInt,
        edited_at -> Nullable<BigInt>,
        status_changed_at -> BigInt,
        version -> BigInt,
        spam_score -> Nullable<Double>,
        spam_report -> Nullable<Text>,
        verdict -> Nullable<Text>,
        learned_text -> Nullable<Text>,
        fingerprint -> Nullable<Text>,
    }
}

diesel::table! {
    server_keys (name) {
        name -> Text,
        value -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    rate_limits (key) {
        key -> Text,
        window_start -> BigInt,
        hits -> BigInt,
    }
}

diesel::table! {
    spam_words (id) {
        id -> BigInt,
        list -> Text,
        kind -> Text,
        pattern -> Text,
        note -> Nullable<Text>,
        created_at -> BigInt,
    }
}

diesel::table! {
    spam_features (key) {
        key -> BigInt,
        a -> Double,
        b -> Double,
    }
}

diesel::table! {
    spam_globals (name) {
        name -> Text,
        value -> Double,
    }
}

diesel::table! {
    spam_state (name) {
        name -> Text,
        version -> BigInt,
    }
}

diesel::table! {
    outbox (id) {
        id -> BigInt,
        topic -> Text,
        target -> Text,
        payload -> Text,
        attempts -> Integer,
        next_attempt_at -> BigInt,
        lease_until -> Nullable<BigInt>,
        last_error -> Nullable<Text>,
        created_at -> BigInt,
        delivered_at -> Nullable<BigInt>,
        gave_up_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    moderation_log (id) {
        id -> BigInt,
        comment_id -> Nullable<BigInt>,
        moderator_id -> Nullable<BigInt>,
        action -> Text,
        from_status -> Nullable<Text>,
        to_status -> Nullable<Text>,
        reason -> Nullable<Text>,
        subject -> Nullable<Text>,
        created_at -> BigInt,
        from_verdict -> Nullable<Text>,
        undone_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    bans (id) {
        id -> BigInt,
        kind -> Text,
        value -> Text,
        shadow -> Bool,
        reason -> Nullable<Text>,
        expires_at -> Nullable<BigInt>,
        created_by -> Nullable<BigInt>,
        created_at -> BigInt,
        lifted_at -> Nullable<BigInt>,
        lifted_by -> Nullable<BigInt>,
    }
}

diesel::table! {
    commenter_stats (author_key) {
        author_key -> Text,
        approved -> BigInt,
        pending -> BigInt,
        spam -> BigInt,
        trash -> BigInt,
        deleted -> BigInt,
        first_seen -> BigInt,
        last_seen -> BigInt,
    }
}

diesel::table! {
    /// SQLite only: the FTS5 trigram index of the queue search (migration
    /// 0007). `all_fields` is FTS5's hidden column of the table's own name,
    /// the left side of `MATCH` across every column; `rowid` is the
    /// comment's id.
    comments_search (rowid) {
        rowid -> BigInt,
        #[sql_name = "comments_search"]
        all_fields -> Text,
    }
}

diesel::table! {
    votes (comment_id, voter) {
        comment_id -> BigInt,
        voter -> Text,
        value -> Integer,
        created_at -> BigInt,
    }
}

diesel::table! {
    /// Where an imported comment came from (migration 0012): the source
    /// (`wordpress:<site>`, `disqus:<forum>`, `isso`, `moderato:<site id>`)
    /// and its id there. `comment_id` is NULL once the comment is removed.
    import_sources (source, source_id) {
        source -> Text,
        source_id -> Text,
        comment_id -> Nullable<BigInt>,
        imported_at -> BigInt,
    }
}

diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(votes -> comments (comment_id));
diesel::joinable!(comments -> articles (article_id));
diesel::joinable!(comments -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(
    users,
    sessions,
    articles,
    comments,
    rate_limits,
    spam_words,
    spam_features,
    spam_globals,
    spam_state,
    outbox,
    moderation_log,
    bans,
    commenter_stats,
    comments_search,
    server_keys,
    votes,
    import_sources,
);
