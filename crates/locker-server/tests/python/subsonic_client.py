"""Drives a Skylark locker's Subsonic API with py-opensonic, a third-party OpenSubsonic client
library from PyPI (module libopensonic).

Used by the locker's interoperability test (tests/it/subsonic_client.rs). The library parses each
response into typed dataclasses (mashumaro) that follow the OpenSubsonic response documentation,
so a missing required field or a wrong type fails here. It signs in with token and salt, sends
every call as a form POST to NAME.view, and, for the second connection, uses an API key.

    subsonic_client.py PORT USER APP_PASSWORD API_KEY STREAM_OUT

Browses (artists, artist, album, album lists, song, folders, genres), searches, streams a song
into STREAM_OUT (for the test to compare with the uploaded file), creates and edits a playlist,
rates, saves and restores the play queue, says what it is playing and asks for similar songs and
artists, stars and scrobbles, then prints one JSON line of what it saw. Exits non-zero on any failure.
"""

import asyncio
import json
import sys

from libopensonic import AsyncConnection


async def main() -> int:
    port, user, password, api_key, stream_out = sys.argv[1:6]
    conn = AsyncConnection("http://127.0.0.1", user, password, port=int(port), app_name="py-opensonic-test")
    out = {}
    try:
        assert await conn.ping()
        out["extensions"] = sorted(e.name for e in await conn.get_open_subsonic_extensions())
        out["license"] = (await conn.get_license())["license"]["valid"]

        artists = await conn.get_artists()
        out["artists"] = [a.name for index in artists.index or [] for a in index.artist or []]
        sigur = next(a for index in artists.index for a in index.artist if a.name == "Sigur Rós")
        artist = await conn.get_artist(sigur.id)
        out["artist_albums"] = [a.name for a in artist.album or []]
        album = await conn.get_album(artist.album[0].id)
        out["album"] = {
            "name": album.name,
            "song_count": album.song_count,
            "songs": [s.title for s in album.song or []],
            "tracks": [s.track for s in album.song or []],
        }
        indexes = await conn.get_indexes()
        out["index_letters"] = [i.name for i in indexes.index or []]
        out["albums_by_name"] = [a.name for a in await conn.get_album_list2("alphabeticalByName", size=10)]
        out["random_songs"] = len(await conn.get_random_songs(size=2))

        found = await conn.search3("hoppi")
        out["search"] = [s.title for s in found.song or []]
        song = found.song[0]
        out["song"] = (await conn.get_song(song.id)).title

        response = await conn.stream(song.id)
        data = await response.read()
        with open(stream_out, "wb") as f:
            f.write(data)
        out["stream_content_type"] = response.headers.get("Content-Type")
        cover = await conn.get_cover_art(song.cover_art, size=40)
        out["cover_bytes"] = len(await cover.read())

        await conn.create_playlist(name="Road trip", song_ids=[album.song[1].id, album.song[0].id])
        made = next(p for p in await conn.get_playlists() if p.name == "Road trip")
        playlist = await conn.get_playlist(made.id)
        out["created"] = {"id": playlist.id, "songs": [e.title for e in playlist.entry or []]}
        hidden = (await conn.search3("hidden")).song[0]
        await conn.update_playlist(
            playlist.id, name="Road trip (edited)", song_ids_to_add=[hidden.id], song_indices_to_remove=[0]
        )
        playlist = await conn.get_playlist(playlist.id)
        out["updated"] = {
            "name": playlist.name,
            "songs": [e.title for e in playlist.entry or []],
            "song_count": playlist.song_count,
        }

        # Browsing by folders, as older apps do: an artist from getIndexes holds its albums, an
        # album its songs; and the other calls such apps make.
        index_sigur = next(a for i in indexes.index for a in i.artist if a.name == "Sigur Rós")
        artist_dir = await conn.get_music_directory(index_sigur.id)
        album_dir = await conn.get_music_directory(artist_dir.child[0].id)
        out["directories"] = {
            "artist": artist_dir.name,
            "albums": [c.title for c in artist_dir.child or []],
            "album_is_dir": artist_dir.child[0].is_dir,
            "songs": [c.title for c in album_dir.child or []],
        }
        out["album_list"] = [a.name for a in await conn.get_album_list("alphabeticalByName")]
        found2 = await conn.search2("sig ros")
        out["search2"] = {
            "artists": [a.name for a in found2.artist or []],
            "albums": [a.title for a in found2.album or []],
            "songs": [s.title for s in found2.song or []],
        }
        out["genres"] = sorted((g.value, g.song_count, g.album_count) for g in await conn.get_genres())
        out["post_rock"] = sorted(s.title for s in await conn.get_songs_by_genre("Post-Rock"))
        me = await conn.get_user(user)
        out["user"] = {"name": me.username, "stream": me.stream_role, "admin": me.admin_role}
        await conn.save_play_queue([album.song[0].id, album.song[1].id], current=album.song[1].id, position=2500)
        queue = await conn.get_play_queue()
        out["play_queue"] = {
            "songs": [e.title for e in queue.entry or []],
            "current": queue.current == album.song[1].id,
            "position": queue.position,
        }
        await conn.save_play_queue_by_index([album.song[1].id, album.song[1].id], current_index=1, position=10)
        by_index = await conn.get_play_queue_by_index()
        out["play_queue_by_index"] = {"songs": len(by_index.entry or []), "current": by_index.current_index}
        await conn.create_bookmark(album.song[1].id, 754000, comment="chapter two")
        out["bookmarks"] = [[b.entry.title, b.position, b.comment, b.username] for b in await conn.get_bookmarks()]
        await conn.delete_bookmark(album.song[1].id)
        out["bookmarks_after_delete"] = len(await conn.get_bookmarks())
        out["lyrics_by_id"] = [
            [l.synced, [[int(x.start), x.value] for x in l.line]] for l in await conn.get_lyrics_by_song_id(album.song[1].id)
        ]
        out["lyrics"] = (await conn.get_lyrics(artist="Sigur Rós", title="Glósóli")).value
        out["no_lyrics"] = (await conn.get_lyrics(title="No such song")).value
        await conn.set_rating(album.song[0].id, 4)
        out["rating"] = (await conn.get_song(album.song[0].id)).user_rating

        # What the apps' "now playing" and radio screens ask.
        await conn.scrobble(album.song[0].id, submission=False)
        out["now_playing"] = [[e.title, e.username, e.player_name] for e in await conn.get_now_playing()]
        out["similar_songs"] = [s.title for s in await conn.get_similar_songs2(album.song[0].id)]
        out["similar_artists"] = [a.name for a in (await conn.get_artist_info2(sigur.id)).similar_artist or []]
        out["album_notes"] = (await conn.get_album_info2(album.id)).notes

        await conn.star(sids=[song.id])
        await conn.scrobble(song.id, submission=True)
        starred = await conn.get_starred2()
        out["starred"] = [s.title for s in starred.song or []]
        out["starred_v1"] = [s.title for s in (await conn.get_starred()).song or []]
        out["top_songs"] = [s.title for s in await conn.get_top_songs("Sigur Rós", count=1)]
        out["play_count"] = (await conn.get_song(song.id)).play_count
    finally:
        await conn.cleanup()

    keyed = AsyncConnection("http://127.0.0.1", api_key=api_key, port=int(port), app_name="py-opensonic-test")
    try:
        out["api_key_user"] = (await keyed.token_info()).username
        out["api_key_albums"] = [a.name for a in await keyed.get_album_list2("alphabeticalByName")]
    finally:
        await keyed.cleanup()

    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
