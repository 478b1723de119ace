"""Database-level guards the ORM cannot declare.

1. Every stored vector has its model's dimension and unit length: search relies on cosine distance of
   L2-normalised vectors, and a vector of the wrong size would break that model's HNSW index.
2. Exactly one embedding model is the default whenever any exists. The partial unique constraint forbids two;
   this deferred trigger forbids none, checked at commit so that a new default can replace the old one
   inside a transaction.
"""

from django.db import migrations

VECTOR_CHECK = """
CREATE FUNCTION embedding_check_vector() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    expected integer;
BEGIN
    SELECT dim INTO expected FROM embedding_embeddingmodel WHERE id = NEW.model_id;
    IF vector_dims(NEW.vector) <> expected THEN
        RAISE EXCEPTION 'vector has % dimensions but model % stores % dimensions',
            vector_dims(NEW.vector), NEW.model_id, expected USING ERRCODE = 'check_violation';
    END IF;
    IF abs(vector_norm(NEW.vector) - 1) > 1e-3 THEN
        RAISE EXCEPTION 'vector must be L2-normalised (its norm is %)', vector_norm(NEW.vector)
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER embedding_vector_matches_model
    BEFORE INSERT OR UPDATE OF vector, model_id ON embedding_trackembedding
    FOR EACH ROW EXECUTE FUNCTION embedding_check_vector();
"""

SINGLE_DEFAULT_CHECK = """
CREATE FUNCTION embedding_check_single_default() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM embedding_embeddingmodel)
       AND NOT EXISTS (SELECT 1 FROM embedding_embeddingmodel WHERE is_default) THEN
        RAISE EXCEPTION 'exactly one embedding model must be the default' USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER embedding_model_has_default
    AFTER INSERT OR UPDATE OR DELETE ON embedding_embeddingmodel
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION embedding_check_single_default();
"""


class Migration(migrations.Migration):
    dependencies = [("embedding", "0001_initial")]

    operations = [
        migrations.RunSQL(
            VECTOR_CHECK,
            reverse_sql="DROP TRIGGER embedding_vector_matches_model ON embedding_trackembedding;"
            "DROP FUNCTION embedding_check_vector();",
        ),
        migrations.RunSQL(
            SINGLE_DEFAULT_CHECK,
            reverse_sql="DROP TRIGGER embedding_model_has_default ON embedding_embeddingmodel;"
            "DROP FUNCTION embedding_check_single_default();",
        ),
    ]
