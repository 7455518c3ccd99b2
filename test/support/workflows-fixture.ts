/**
 * The §8.1 data the rows tests share: workflows (10 of user 12345) with three executions each,
 * and a hash of every row that does not belong to user 12345 (must not change when theirs are
 * put back).
 */
export const WORKFLOWS_SQL = `CREATE TABLE workflows (id serial PRIMARY KEY, user_id int NOT NULL, name text);
    CREATE TABLE workflow_executions (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, workflow_id int NOT NULL REFERENCES workflows(id), status text);
    INSERT INTO workflows (user_id, name) SELECT CASE WHEN g % 20 = 0 THEN 12345 ELSE g END, 'wf ' || g FROM generate_series(1, 200) g;
    INSERT INTO workflow_executions (workflow_id, status) SELECT id, 'ok' FROM workflows, generate_series(1, 3);`;

export const OTHERS_HASH_SQL = `SELECT (SELECT md5(string_agg(md5(w::text), '' ORDER BY w.id)) FROM workflows w WHERE user_id <> 12345) AS w,
                   (SELECT md5(string_agg(md5(e::text), '' ORDER BY e.id)) FROM workflow_executions e WHERE workflow_id IN (SELECT id FROM workflows WHERE user_id <> 12345)) AS e`;
