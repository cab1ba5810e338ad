package state

import (
	"context"
	"math/rand/v2"
	"testing"
)

// benchBlob is a 2 KB collection state, the size the brief asks to measure
// (a typical engine blob: a few hundred item ids and their change stamps).
func benchBlob() []byte {
	b := make([]byte, 2048)
	r := rand.NewChaCha8([32]byte{1})
	r.Read(b)
	return b
}

// BenchmarkPutCollection advances one collection state with a 2 KB blob: one
// write transaction (BEGIN IMMEDIATE, key check, UPDATE, COMMIT into the WAL).
func BenchmarkPutCollection(b *testing.B) {
	s, _ := openTest(b)
	ctx := context.Background()
	data := benchBlob()
	key := 0
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if err := s.PutCollection(ctx, "u", "dev", "col", key, key+1, data); err != nil {
			b.Fatal(err)
		}
		key++
	}
}

// BenchmarkCollectionRead reads one collection state (2 KB current and 2 KB
// previous blob) through the reader pool.
func BenchmarkCollectionRead(b *testing.B) {
	s, _ := openTest(b)
	ctx := context.Background()
	data := benchBlob()
	for k := range 2 {
		if err := s.PutCollection(ctx, "u", "dev", "col", k, k+1, data); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			c, err := s.Collection(ctx, "u", "dev", "col")
			if err != nil || c.Key != 2 {
				b.Fatal(c.Key, err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				c, err := s.Collection(ctx, "u", "dev", "col")
				if err != nil || c.Key != 2 {
					b.Error(c.Key, err)
					return
				}
			}
		})
	})
}
