#include "common/io_threads.h"

#include <gtest/gtest.h>
#include <boost/asio/post.hpp>

#include <atomic>
#include <chrono>
#include <future>
#include <set>
#include <thread>

namespace eddy {
namespace {

TEST(IoThreadsTest, EachContextRunsOnItsOwnThreadAndKnowsItself) {
  IoThreads io(3);
  io.start();
  std::set<std::thread::id> threads;
  for (unsigned i = 0; i < io.size(); ++i) {
    std::promise<std::pair<std::thread::id, unsigned>> seen;
    boost::asio::post(io.at(i), [&] { seen.set_value({std::this_thread::get_id(), io.local()}); });
    auto [id, local] = seen.get_future().get();
    EXPECT_EQ(local, i);  // on an io thread, local() is that thread's own context
    threads.insert(id);
  }
  EXPECT_EQ(threads.size(), 3u);
  EXPECT_EQ(threads.count(std::this_thread::get_id()), 0u);
  io.stop();
  io.join();
}

TEST(IoThreadsTest, OtherThreadsAreGivenEveryContextInTurn) {
  IoThreads io(2);
  std::set<unsigned> given;
  for (int i = 0; i < 4; ++i) given.insert(io.local());
  EXPECT_EQ(given, (std::set<unsigned>{0, 1}));
}

TEST(IoThreadsTest, IdleContextsKeepRunningUntilStopped) {
  IoThreads io(2);
  io.start();
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // nothing queued meanwhile
  std::promise<void> ran;
  boost::asio::post(io.at(1), [&] { ran.set_value(); });
  EXPECT_EQ(ran.get_future().wait_for(std::chrono::seconds(5)), std::future_status::ready);
  io.stop();
  io.join();
}

TEST(IoThreadsTest, ZeroMeansOnePerCore) {
  IoThreads io(0);
  EXPECT_EQ(io.size(), std::max(1u, std::thread::hardware_concurrency()));
}

}  // namespace
}  // namespace eddy
